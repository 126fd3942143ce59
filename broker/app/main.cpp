#include <strata/broker/broker_app.h>

int main(int argc, char** argv) {
  strata::broker::BrokerApp app;
  return app.runFromMain(argc, argv);
}
