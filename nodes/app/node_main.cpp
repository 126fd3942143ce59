#include <strata/nodes/node_app.h>

int main(int argc, char** argv) {
  strata::nodes::NodeApp app;
  return app.runFromMain(argc, argv);
}
