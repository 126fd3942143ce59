#include <strata/nodes/cli.h>

int main(int argc, char** argv) { return strata::nodes::runCli(argc, argv); }
