/*
 * A driver for the conformance suite's own tests. Built as it is, it keeps
 * every rule; each macro makes it break one, so that a test can show that
 * `switchyard plugin test` fails where it should:
 *   ACCEPT_OUT_OF_RANGE  create takes a gain outside its declared 0..10
 *   ACCEPT_MISSING       create runs without the required unit_id
 *   PUBLISH_FROM_THREAD  poll publishes from a thread of its own
 *   PUBLISH_FOREIGN      poll publishes to a handle that is not its channel, with an unknown quality
 *   RESOLVE_IN_POLL      poll looks a channel up ([control] only)
 *   PUBLISH_AFTER_STOP   start leaves a thread running that keeps publishing after stop
 *   HANG_IN_STOP         stop takes 3 s
 * Class "ConformanceSensor": Value (read), Target (write, echoed on Value).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "switchyard_plugin.h"

static const char manifest[] =
    "{\"classes\":[{\"name\":\"ConformanceSensor\",\"description\":\"conformance fixture\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"gain\":{\"type\":\"number\",\"minimum\":0,\"maximum\":10,\"default\":1,\"hot\":true},"
    "\"unit_id\":{\"type\":\"integer\"}},\"required\":[\"unit_id\"]}}]}";

typedef struct sensor {
    const sy_host_api *host;
    sy_channel value, target;
    double gain;
} sensor;

static void message(char *buffer, size_t capacity, const char *text) {
    if (buffer != NULL && capacity > 0) snprintf(buffer, capacity, "%s", text);
}

static sy_status read_gain(sensor *s, const char *json, char *error, size_t capacity) {
    const char *p = json ? strstr(json, "\"gain\":") : NULL;
    double gain = p ? strtod(p + 7, NULL) : 1;
#ifndef ACCEPT_OUT_OF_RANGE
    if (gain < 0 || gain > 10) {
        message(error, capacity, "gain must be within 0..10");
        return SY_ERR_INVALID;
    }
#endif
    s->gain = gain;
    return SY_OK;
}

static sy_status fx_create(const sy_host_api *host, const char *class_name, const char *config, sy_instance *out,
                           char *error, size_t capacity) {
    (void)class_name;
    sensor *s = calloc(1, sizeof *s);
    s->host = host;
    s->value = host->channel(host->context, "Value", error, capacity);
    s->target = host->channel(host->context, "Target", error, capacity);
    if (s->value < 0 || s->target < 0) { free(s); return SY_ERR_INVALID; }
#ifndef ACCEPT_MISSING
    if (strstr(config, "\"unit_id\":") == NULL) {
        free(s);
        message(error, capacity, "unit_id is required");
        return SY_ERR_INVALID;
    }
#endif
    sy_status status = read_gain(s, strstr(config, "\"parameters\":"), error, capacity);
    if (status != SY_OK) { free(s); return status; }
    *out = s;
    return SY_OK;
}

static sy_status fx_configure(sy_instance instance, const char *parameters, char *error, size_t capacity) {
    return read_gain(instance, parameters, error, capacity);
}

static void fx_destroy(sy_instance instance) { free(instance); }

static sy_status publish(const sy_host_api *host, sy_channel channel, double v) {
    sy_value value = { SY_VALUE_F64, SY_QUALITY_GOOD, host->monotonic_ns(host->context), v, 0 };
    return host->publish(host->context, channel, &value);
}

#if defined(PUBLISH_FROM_THREAD) || defined(PUBLISH_AFTER_STOP)
typedef struct publisher { const sy_host_api *host; sy_channel channel; int times; } publisher;

static void *publish_loop(void *raw) {
    publisher *p = raw;
    for (int i = 0; i < p->times; i++) {
        publish(p->host, p->channel, 1);
        struct timespec pause = { 0, 10 * 1000 * 1000 };
        if (p->times > 1) nanosleep(&pause, NULL);
    }
    free(p);
    return NULL;
}
#endif

static sy_status fx_start(sy_instance instance, char *error, size_t capacity) {
    (void)error; (void)capacity;
#ifdef PUBLISH_AFTER_STOP
    sensor *s = instance;
    /* Publishes for about a second: on past stop, never joined. */
    publisher *p = malloc(sizeof *p);
    *p = (publisher){ s->host, s->value, 100 };
    pthread_t thread;
    pthread_create(&thread, NULL, publish_loop, p);
    pthread_detach(thread);
#else
    (void)instance;
#endif
    return SY_OK;
}

static sy_status fx_poll(sy_instance instance, const char *group, char *error, size_t capacity) {
    (void)group;
    sensor *s = instance;
#ifdef RESOLVE_IN_POLL
    s->value = s->host->channel(s->host->context, "Value", error, capacity);
#endif
#ifdef PUBLISH_FOREIGN
    sy_value odd = { SY_VALUE_F64, 9, s->host->monotonic_ns(s->host->context), 1, 0 };
    s->host->publish(s->host->context, 4242, &odd);
    s->host->publish(s->host->context, s->value, &odd);
#endif
#ifdef PUBLISH_FROM_THREAD
    publisher *p = malloc(sizeof *p);
    *p = (publisher){ s->host, s->value, 1 };
    pthread_t thread;
    pthread_create(&thread, NULL, publish_loop, p);
    pthread_join(thread, NULL);
    return SY_OK;
#endif
    if (publish(s->host, s->value, 21 * s->gain) != SY_OK) {
        message(error, capacity, "publish refused");
        return SY_ERR_INTERNAL;
    }
    return SY_OK;
}

static sy_status fx_write(sy_instance instance, const sy_setpoint *setpoints, size_t count, char *error, size_t capacity) {
    sensor *s = instance;
    for (size_t i = 0; i < count; i++) {
        if (setpoints[i].channel != s->target) {
            message(error, capacity, "only Target is writable");
            return SY_ERR_INVALID;
        }
        publish(s->host, s->value, setpoints[i].value.f64);
    }
    return SY_OK;
}

static void fx_stop(sy_instance instance) {
    (void)instance;
#ifdef HANG_IN_STOP
    struct timespec pause = { 3, 0 };
    nanosleep(&pause, NULL);
#endif
}

static const sy_driver_api driver = { sizeof(sy_driver_api), fx_start, fx_poll, fx_write, fx_stop };
static const sy_plugin_descriptor descriptor = {
    SY_ABI_MAJOR, SY_ABI_MINOR, sizeof(sy_plugin_descriptor), SY_KIND_DRIVER, "test.conformance", "1.0.0", manifest,
    fx_create, fx_configure, fx_destroy, &driver, NULL,
};

const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &descriptor; }
