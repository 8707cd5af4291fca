// duel: train, sample and inspect GANs. The whole command line is
// duel::run_cli (tools/duel/cli.cpp), so that a program of a user's own, with
// models of its own, can be the same CLI (docs/library.md).
#include "duel/cli/cli.h"

int main(int argc, char** argv) { return duel::run_cli(argc, argv); }
