/* Claims an ABI version the node does not speak. Its describe() aborts: the node must
 * refuse it on the version alone, before calling anything else. */
#include <stdlib.h>

#include <strata/plugin_abi.h>

STRATA_PLUGIN_EXPORT uint32_t strata_plugin_abi_version(void) { return STRATA_PLUGIN_ABI_VERSION + 1; }

STRATA_PLUGIN_EXPORT const strata_plugin* strata_plugin_describe(void) { abort(); }
