/* A shared library that exports no plug-in entry point. */
int not_a_plugin_answer(void);
int not_a_plugin_answer(void) { return 42; }
