// The duel command line with one more model: everything duel's own `duel`
// does (train, sample, eval, report, info, export, ...), and `my-gan`, which
// my_gan.cpp registers, among the models.
#include <duel/cli/cli.h>

int main(int argc, char** argv) { return duel::run_cli(argc, argv); }
