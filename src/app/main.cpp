#include "quoter/app/cli.hpp"

int main(int argc, char** argv) { return quoter::app::run_cli(argc, argv); }
