/*
 * ExampleCDriver — a Switchyard driver written in plain C against
 * switchyard_plugin.h, proving that the ABI needs no Swift.
 *
 * Class "ExampleCSensor": a sensor whose "Temperature" follows a slow sine
 * (offset ± amplitude, from the host clock), and a writable "Setpoint" that
 * the device echoes on "SetpointEcho", as a real device reads back a register.
 *
 * Build out of tree:
 *   cc -shared -fPIC -O2 -I <switchyard>/SDK/Sources/CSwitchyardPlugin/include \
 *      -Wl,--version-script=<switchyard>/SDK/exports.map \
 *      example_c_driver.c -o libExampleCDriver.so -lm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard_plugin.h"

static const char manifest[] =
    "{\"classes\":[{\"name\":\"ExampleCSensor\","
    "\"description\":\"Example sensor written in C: a sine temperature and an echoed setpoint\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"offset\":{\"type\":\"number\",\"default\":20,\"unit\":\"degC\",\"description\":\"Mean temperature\",\"hot\":true},"
    "\"amplitude\":{\"type\":\"number\",\"minimum\":0,\"default\":5,\"unit\":\"degC\",\"description\":\"Swing of the temperature\",\"hot\":true}"
    "}}}]}";

typedef struct sensor {
    const sy_host_api *host;
    sy_channel temperature, setpoint, echo;
    double offset, amplitude;
} sensor;

static void copy_message(char *buffer, size_t capacity, const char *message) {
    if (buffer == NULL || capacity == 0) return;
    snprintf(buffer, capacity, "%s", message);
}

/* The host hands parameters as canonical JSON (sorted keys, no spaces), so a
 * plugin this small can find a number by its key. A real plugin would use a
 * JSON library. */
static int find_number(const char *json, const char *key, double *out) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    if (p == NULL) return 0;
    char *end = NULL;
    double v = strtod(p + strlen(pattern), &end);
    if (end == p + strlen(pattern)) return 0;
    *out = v;
    return 1;
}

static sy_status apply_parameters(sensor *s, const char *json, char *error, size_t capacity) {
    double offset = s->offset, amplitude = s->amplitude;
    find_number(json, "offset", &offset);
    find_number(json, "amplitude", &amplitude);
    if (amplitude < 0) {
        copy_message(error, capacity, "amplitude must be >= 0");
        return SY_ERR_INVALID;
    }
    s->offset = offset;
    s->amplitude = amplitude;
    return SY_OK;
}

static sy_channel resolve(const sy_host_api *host, const char *name, char *error, size_t capacity) {
    return host->channel(host->context, name, error, capacity);
}

/* [control] */
static sy_status sensor_create(const sy_host_api *host, const char *class_name, const char *config_json,
                        sy_instance *out, char *error, size_t capacity) {
    if (strcmp(class_name, "ExampleCSensor") != 0) {
        copy_message(error, capacity, "unknown class");
        return SY_ERR_UNSUPPORTED;
    }
    sensor *s = calloc(1, sizeof *s);
    if (s == NULL) {
        copy_message(error, capacity, "out of memory");
        return SY_ERR_INTERNAL;
    }
    s->host = host;
    s->offset = 20;
    s->amplitude = 5;
    s->temperature = resolve(host, "Temperature", error, capacity);
    s->setpoint = resolve(host, "Setpoint", error, capacity);
    s->echo = resolve(host, "SetpointEcho", error, capacity);
    if (s->temperature < 0 || s->setpoint < 0 || s->echo < 0) {
        free(s);
        return SY_ERR_INVALID; /* error already says which channel is missing */
    }
    const char *parameters = strstr(config_json, "\"parameters\":");
    sy_status status = apply_parameters(s, parameters ? parameters : "", error, capacity);
    if (status != SY_OK) {
        free(s);
        return status;
    }
    *out = s;
    return SY_OK;
}

/* [thread-safe] (ABI 1.2) What create would refuse, found without creating
 * anything: a profile that lacks one of the channels this driver resolves,
 * or parameters apply_parameters refuses. No I/O, no host calls, no state:
 * the host may call it on any thread, for several configs at once. */
static sy_status sensor_validate(const char *class_name, const char *config_json, char *error, size_t capacity) {
    if (strcmp(class_name, "ExampleCSensor") != 0) {
        copy_message(error, capacity, "unknown class");
        return SY_ERR_UNSUPPORTED;
    }
    static const char *const needed[] = { "Temperature", "Setpoint", "SetpointEcho" };
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
        char pattern[64];
        snprintf(pattern, sizeof pattern, "\"name\":\"%s\"", needed[i]);
        if (strstr(config_json, pattern) == NULL) {
            char message[160];
            snprintf(message, sizeof message, "profile: no channel \"%s\" (ExampleCSensor needs Temperature, Setpoint and SetpointEcho)", needed[i]);
            copy_message(error, capacity, message);
            return SY_ERR_INVALID;
        }
    }
    sensor scratch = { .offset = 20, .amplitude = 5 };
    const char *parameters = strstr(config_json, "\"parameters\":");
    return apply_parameters(&scratch, parameters ? parameters : "", error, capacity);
}

/* [control] */
static sy_status sensor_configure(sy_instance instance, const char *parameters_json, char *error, size_t capacity) {
    return apply_parameters(instance, parameters_json, error, capacity);
}

/* [control] */
static void sensor_destroy(sy_instance instance) { free(instance); }

/* [io] Nothing to connect to. */
static sy_status sensor_start(sy_instance instance, char *error, size_t capacity) {
    (void)instance; (void)error; (void)capacity;
    return SY_OK;
}

/* [io] */
static sy_status sensor_poll(sy_instance instance, const char *group, char *error, size_t capacity) {
    (void)group; (void)error; (void)capacity;
    sensor *s = instance;
    int64_t now = s->host->monotonic_ns(s->host->context);
    sy_value v = { SY_VALUE_F64, SY_QUALITY_GOOD, now, s->offset + s->amplitude * sin((double)now / 60e9), 0 };
    return s->host->publish(s->host->context, s->temperature, &v);
}

/* [io] */
static sy_status sensor_write(sy_instance instance, const sy_setpoint *setpoints, size_t count, char *error, size_t capacity) {
    sensor *s = instance;
    for (size_t i = 0; i < count; i++) {
        if (setpoints[i].channel != s->setpoint) {
            copy_message(error, capacity, "only Setpoint is writable");
            return SY_ERR_INVALID;
        }
        sy_value v = setpoints[i].value;
        v.quality = SY_QUALITY_GOOD;
        v.timestamp_ns = s->host->monotonic_ns(s->host->context);
        s->host->publish(s->host->context, s->echo, &v);
    }
    return SY_OK;
}

/* [io] */
static void sensor_stop(sy_instance instance) { (void)instance; }

static const sy_driver_api driver_api = { sizeof(sy_driver_api), sensor_start, sensor_poll, sensor_write, sensor_stop };

static const sy_plugin_descriptor descriptor = {
    SY_ABI_MAJOR, SY_ABI_MINOR, sizeof(sy_plugin_descriptor),
    SY_KIND_DRIVER, "switchyard.example-c", "1.0.0", manifest,
    sensor_create, sensor_configure, sensor_destroy,
    &driver_api, NULL,
    sensor_validate, /* ABI 1.2 */
};

const sy_plugin_descriptor *switchyard_plugin_entry_v1(void) { return &descriptor; }
