/* A plug-in written in plain C against <strata/plugin_abi.h> alone: service "c.upper"
 * answers its body in upper case, followed by the configured suffix. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <strata/plugin_abi.h>

struct upper {
  const strata_host_api* api;
  char suffix[64];
};

static void upper_handler(void* context, const strata_request* request, strata_reply* reply) {
  struct upper* self = context;
  for (size_t i = 0; i < request->frame_count; ++i) {
    strata_bytes frame = request->frames[i];
    char* copy = malloc(frame.size + 1);
    if (copy == NULL) {
      self->api->reply_error(reply, STRATA_ERROR_INTERNAL, "out of memory");
      return;
    }
    for (size_t j = 0; j < frame.size; ++j) copy[j] = (char)toupper((unsigned char)frame.data[j]);
    self->api->reply_frame(reply, copy, frame.size);
    free(copy);
  }
  self->api->reply_frame(reply, self->suffix, strlen(self->suffix));
}

static void* upper_start(const strata_host_api* api, strata_host* host, char* error, size_t error_size) {
  struct upper* self = calloc(1, sizeof *self);
  if (self == NULL) return NULL;
  self->api = api;
  const char* suffix = api->config(host, "suffix");
  if (suffix != NULL && strlen(suffix) >= sizeof self->suffix) {
    strncpy(error, "suffix is too long", error_size - 1);
    free(self);
    return NULL;
  }
  strcpy(self->suffix, suffix != NULL ? suffix : "");
  if (api->add_service(host, "c.upper", upper_handler, self, 0) != STRATA_OK) {
    strncpy(error, "c.upper refused", error_size - 1);
    free(self);
    return NULL;
  }
  return self;
}

static void upper_stop(void* instance) { free(instance); }

STRATA_PLUGIN_EXPORT uint32_t strata_plugin_abi_version(void) { return STRATA_PLUGIN_ABI_VERSION; }

STRATA_PLUGIN_EXPORT const strata_plugin* strata_plugin_describe(void) {
  static const char* const keys[] = {"suffix", NULL};
  static const strata_plugin plugin = {STRATA_PLUGIN_ABI_VERSION, "c_upper", "1", "upper case, in C", keys,
                                       upper_start, upper_stop};
  return &plugin;
}
