// An independent reader of TensorBoard event files, used to check the files
// duel writes (src/io/tensorboard.cpp) with code that shares nothing with it:
// the TFRecord framing and its CRC-32C are checked here, and the Event
// protobuf is decoded by protobufjs from message definitions written below
// from the field numbers of tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto (no generated code).
//
//   node tests/tensorboard/read_events.mjs FILE   ->  JSON array of events on stdout
//
// Exits 1 with a message on stderr at the first bad length, CRC or message.
// Every record must also re-encode (protobufjs) to exactly its bytes, so no
// field was written that the definitions below do not describe.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let protobuf;
try {
  protobuf = require("protobufjs");
} catch (e) {
  console.error("read_events: the npm package protobufjs is missing: run scripts/install-deps.sh " +
                "(npm ci in tests/tensorboard)");
  process.exit(1);
}

const root = protobuf.Root.fromJSON({
  nested: {
    Event: {
      oneofs: { what: { oneof: ["file_version", "summary", "session_log"] } },
      fields: {
        wall_time: { type: "double", id: 1 },
        step: { type: "int64", id: 2 },
        file_version: { type: "string", id: 3 },
        summary: { type: "Summary", id: 5 },
        session_log: { type: "SessionLog", id: 6 },
      },
    },
    Summary: {
      fields: { value: { rule: "repeated", type: "Value", id: 1 } },
    },
    Value: {
      oneofs: { value: { oneof: ["simple_value", "image"] } },
      fields: {
        tag: { type: "string", id: 1 },
        simple_value: { type: "float", id: 2 },
        image: { type: "Image", id: 4 },
      },
    },
    Image: {
      fields: {
        height: { type: "int32", id: 1 },
        width: { type: "int32", id: 2 },
        colorspace: { type: "int32", id: 3 },
        encoded_image_string: { type: "bytes", id: 4 },
      },
    },
    SessionLog: {
      fields: { status: { type: "SessionStatus", id: 1 } },
      nested: { SessionStatus: { values: { STATUS_UNSPECIFIED: 0, START: 1, STOP: 2, CHECKPOINT: 3 } } },
    },
  },
});
const Event = root.lookupType("Event");

// CRC-32C (Castagnoli), bit by bit, and TensorFlow's mask.
function crc32c(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
const mask = (c) => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;

function die(msg) {
  console.error("read_events: " + msg);
  process.exit(1);
}

const path = process.argv[2];
if (!path) die("usage: node read_events.mjs EVENT_FILE");
const buf = readFileSync(path);
const events = [];
let at = 0;
while (at < buf.length) {
  if (at + 12 > buf.length) die(`${path}: truncated record header at byte ${at}`);
  const len = buf.readBigUInt64LE(at);
  if (mask(crc32c(buf.subarray(at, at + 8))) !== buf.readUInt32LE(at + 8))
    die(`${path}: bad length CRC at byte ${at}`);
  const n = Number(len);
  if (at + 12 + n + 4 > buf.length) die(`${path}: record at byte ${at} claims ${n} bytes past the end`);
  const data = buf.subarray(at + 12, at + 12 + n);
  if (mask(crc32c(data)) !== buf.readUInt32LE(at + 12 + n)) die(`${path}: bad data CRC at byte ${at}`);
  let msg;
  try {
    msg = Event.decode(data);
  } catch (e) {
    die(`${path}: record at byte ${at} is no Event: ${e.message}`);
  }
  if (!Buffer.from(Event.encode(msg).finish()).equals(data))
    die(`${path}: record at byte ${at} holds fields the Event definition does not describe`);
  const o = Event.toObject(msg, { longs: String, enums: String });
  const ev = { wall_time: o.wall_time ?? 0, step: Number(o.step ?? 0) };
  if (o.file_version !== undefined) ev.file_version = o.file_version;
  if (o.session_log) ev.session_log = o.session_log.status ?? "STATUS_UNSPECIFIED";
  if (o.summary) {
    ev.values = (o.summary.value ?? []).map((v) => {
      const out = { tag: v.tag };
      if (v.simple_value !== undefined) out.simple_value = v.simple_value;
      if (v.image) {
        const png = Buffer.from(v.image.encoded_image_string ?? []);
        out.image = {
          height: v.image.height ?? 0,
          width: v.image.width ?? 0,
          colorspace: v.image.colorspace ?? 0,
          bytes: png.length,
          signature: png.subarray(0, 8).toString("hex"),
          // the PNG's own IHDR size (big endian, bytes 16..23)
          png_width: png.length >= 24 ? png.readUInt32BE(16) : null,
          png_height: png.length >= 24 ? png.readUInt32BE(20) : null,
          sha256: createHash("sha256").update(png).digest("hex"),
        };
      }
      return out;
    });
  }
  events.push(ev);
  at += 12 + n + 4;
}
process.stdout.write(JSON.stringify(events, null, 1) + "\n");
