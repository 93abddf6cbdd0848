/*
 * A controller that writes VALUE to the channel named by its "output"
 * parameter. Built several times with different -D values, it stands for
 * successive versions of one plugin (plugin swap tests and the soak bench).
 */
#include <stdlib.h>
#include <string.h>
#include "switchyard_plugin.h"

#ifndef PLUGIN_ID
#define PLUGIN_ID "test.versioned"
#endif
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "1.0.0"
#endif
#ifndef CLASS_NAME
#define CLASS_NAME "VersionedController"
#endif
#ifndef VALUE
#define VALUE 1
#endif

typedef struct { const sy_host_api *h; sy_channel out; } ctl;

static sy_status c_create(const sy_host_api *h, const char *cls, const char *json, sy_instance *o, char *e, size_t n) {
    (void)cls;
    const char *p = strstr(json, "\"output\":\"");
    if (!p) return SY_ERR_INVALID;
    char address[128] = {0};
    p += strlen("\"output\":\"");
    for (size_t i = 0; i < sizeof address - 1 && p[i] && p[i] != '"'; i++) address[i] = p[i];
    ctl *c = calloc(1, sizeof *c);
    if (!c) return SY_ERR_INTERNAL;
    c->h = h;
    c->out = h->channel(h->context, address, e, n);
    if (c->out < 0) { free(c); return SY_ERR_INVALID; }
    *o = c;
    return SY_OK;
}

static sy_status c_configure(sy_instance i, const char *p, char *e, size_t n) { (void)i; (void)p; (void)e; (void)n; return SY_OK; }
static void c_destroy(sy_instance i) { free(i); }

static sy_status c_execute(sy_instance i, const sy_cycle_context *cx, char *e, size_t n) {
    (void)cx; (void)e; (void)n;
    ctl *c = i;
    sy_value v = { SY_VALUE_F64, SY_QUALITY_GOOD, 0, VALUE, 0 };
    c->h->write(c->h->context, c->out, &v);
    return SY_OK;
}

static const sy_controller_api api = { sizeof(sy_controller_api), c_execute };
static const sy_plugin_descriptor d = {
    SY_ABI_MAJOR, SY_ABI_MINOR, sizeof(sy_plugin_descriptor), SY_KIND_CONTROLLER, PLUGIN_ID, PLUGIN_VERSION,
    "{\"classes\":[{\"name\":\"" CLASS_NAME "\",\"parameters\":{\"type\":\"object\",\"properties\":{\"output\":{\"type\":\"string\"}}}}]}",
    c_create, c_configure, c_destroy, NULL, &api };

const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &d; }
