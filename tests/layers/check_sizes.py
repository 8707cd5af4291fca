#!/usr/bin/env python3
"""Size limits of duel's code (docs/design.md, "Sizes"): no function in src/
longer than MAX_FUNCTION lines, no CLI command file (tools/duel/cmd_*.cpp)
longer than MAX_COMMAND lines. A function is a brace block opened after a
closing parenthesis (or a lambda at namespace scope) outside class and
namespace bodies; its length runs from its first to its last line.
Usage: check_sizes.py SOURCE_DIR [--list N]  (--list prints the N longest)."""
import re
import sys
from pathlib import Path

MAX_FUNCTION = 120
MAX_COMMAND = 150


def strip(text):
    """Blanks comments, strings and character literals, keeping line breaks."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end])); i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i)); i = j + 1
        else:
            out.append(c); i += 1
    return "".join(out)


def functions(path):
    """(name, first line, last line) of each outermost function body."""
    text = strip(path.read_text(encoding="utf-8", errors="replace"))
    found, stack, head_start, heads = [], [], 0, {}
    for i, c in enumerate(text):
        if c == "{":
            head = text[head_start:i]
            in_function = any(kind == "function" for kind, _ in stack)
            is_scope = re.search(r"\b(namespace|class|struct|union|enum)\b[^()]*$", head)
            is_function = not in_function and not is_scope and (head.rstrip().endswith(")") or
                                                                re.search(r"\)\s*(const|override|noexcept|final|\s)*(->[^{]*)?$", head)
                                                                or re.search(r"\]\s*(\([^)]*\))?\s*(mutable)?\s*$", head))
            kind = "function" if is_function else ("scope" if is_scope or not in_function else "block")
            stack.append((kind, i))
            heads[i] = head
            head_start = i + 1
        elif c == "}":
            if stack:
                kind, start = stack.pop()
                if kind == "function":
                    first = text.count("\n", 0, start) + 1
                    last = text.count("\n", 0, i) + 1
                    name = re.search(r"([\w:~]+)\s*\(", heads[start])
                    found.append((name.group(1) if name else "(lambda)", first, last))
            head_start = i + 1
        elif c == ";":
            head_start = i + 1
    return found


def main():
    root = Path(sys.argv[1])
    listing = int(sys.argv[sys.argv.index("--list") + 1]) if "--list" in sys.argv else 0
    problems, sizes = [], []
    for path in sorted((root / "src").rglob("*.cpp")):
        for name, first, last in functions(path):
            lines = last - first + 1
            sizes.append((lines, f"{path.relative_to(root)}:{first} {name}"))
            if lines > MAX_FUNCTION:
                problems.append(f"{path.relative_to(root)}:{first}: function {name} is {lines} lines "
                                f"(limit {MAX_FUNCTION}): split it into named steps")
    for path in sorted((root / "tools" / "duel").glob("cmd_*.cpp")):
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > MAX_COMMAND:
            problems.append(f"{path.relative_to(root)}: {lines} lines (limit {MAX_COMMAND}): move the work "
                            "into the library (src/apps) and keep the command to parsing and printing")
    for lines, where in sorted(sizes, reverse=True)[:listing]:
        print(f"{lines:5d} {where}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"ok: {len(sizes)} functions in src/ within {MAX_FUNCTION} lines, command files within {MAX_COMMAND}")


if __name__ == "__main__":
    main()
