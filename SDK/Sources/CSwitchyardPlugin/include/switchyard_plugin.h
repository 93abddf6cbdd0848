/*
 * switchyard_plugin.h — the Switchyard plugin ABI, version 1.2.
 *
 * This header is the one contract between the Switchyard host and its
 * plugins. A plugin is a shared library that exports exactly one function,
 * switchyard_plugin_entry_v1, returning a descriptor. Everything else the
 * plugin offers is reached through that descriptor; everything the host
 * offers is reached through the sy_host_api table handed to create().
 *
 * Rules (see docs/plugins.md for the full contract):
 *  - Versioning: every struct starts with enough to check it. The host reads
 *    abi_major / abi_minor / struct_size of the descriptor before anything
 *    else, refuses a different major or a newer minor, and accepts older
 *    (smaller) structs. Structs only ever grow at their end.
 *  - Memory never changes owner across the boundary. Strings passed in are
 *    borrowed for the duration of the call. Error messages are copied into a
 *    caller-owned buffer (error, error_capacity), truncated and always
 *    NUL-terminated. The descriptor and the strings it points to are owned by
 *    the plugin and must live as long as the library is loaded.
 *  - Nothing unwinds across the boundary: no C++ exceptions, no Swift errors,
 *    no longjmp. Failures are status codes plus a message.
 *  - Threads. Each function is tagged with the thread it is called on:
 *      [control]     between cycles, on the host's control thread; never
 *                    concurrently with any other call on the same instance.
 *      [cycle]       the core-cycle thread; must not block or do I/O.
 *      [io]          the device's own worker thread; may block on I/O.
 *      [thread-safe] any thread.
 *    Calls on one instance never overlap, except that a driver's [io]
 *    functions and the host's [cycle] work run in parallel (they share only
 *    the host's process image, which the host synchronises).
 */
#ifndef SWITCHYARD_PLUGIN_H
#define SWITCHYARD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SY_ABI_MAJOR 1 /* a different major is refused by the host */
#define SY_ABI_MINOR 2 /* a host refuses plugins of a newer minor; the SDK's version is MAJOR.MINOR.patch */
#define SY_ENTRY_SYMBOL "switchyard_plugin_entry_v1" /* the one symbol a plugin exports */

/* ---- status codes ------------------------------------------------------ */

typedef int32_t sy_status; /* what every fallible function returns: SY_OK or an SY_ERR_* */
#define SY_OK 0                 /* success */
#define SY_ERR_INVALID 1        /* bad parameters or instance config */
#define SY_ERR_NEEDS_RECREATE 2 /* configure(): change cannot be applied hot */
#define SY_ERR_IO 3             /* device communication failed */
#define SY_ERR_UNAVAILABLE 4    /* resource (channel, device) not available */
#define SY_ERR_CONFLICT 5       /* write(): setpoint already set this cycle */
#define SY_ERR_INTERNAL 6       /* a bug or an unexpected state in the plugin */
#define SY_ERR_UNSUPPORTED 7    /* the function or class is not supported */

/* ---- plugin kinds, qualities, value types, log levels ------------------ */

#define SY_KIND_DRIVER 1     /* connects to a device, polls and writes it, on the device's [io] thread */
#define SY_KIND_CONTROLLER 2 /* reads the process image and writes setpoints, on the [cycle] thread */

#define SY_QUALITY_GOOD 0          /* a fresh, plausible reading: the only quality controllers act on */
#define SY_QUALITY_STALE 1         /* no fresh reading within its deadline */
#define SY_QUALITY_FAULT 2         /* reading failed or is implausible */
#define SY_QUALITY_NOT_AVAILABLE 3 /* device reports "not available", or never read */

#define SY_VALUE_NONE 0 /* no number: never read, or a text channel (its text is beside the image) */
#define SY_VALUE_F64 1 /* in f64 */
#define SY_VALUE_I64 2 /* in i64 */
#define SY_VALUE_BOOL 3 /* in i64, 0 or 1 */

#define SY_LOG_TRACE 0   /* step by step, for development */
#define SY_LOG_DEBUG 1   /* detail for finding a fault */
#define SY_LOG_INFO 2    /* a state change the operator may want to know */
#define SY_LOG_WARNING 3 /* something is wrong, the plugin carries on */
#define SY_LOG_ERROR 4   /* something failed */

/* A channel handle: an index into the host's process image. Resolved once
 * with sy_host_api.channel() and then used on the hot path, where no strings
 * are looked up and nothing is allocated. Negative means invalid. */
typedef int32_t sy_channel;
#define SY_CHANNEL_INVALID (-1) /* what channel() returns for an address that does not exist */

/* A typed value with its time (host monotonic clock, ns) and quality. */
typedef struct sy_value {
    int32_t type;         /* SY_VALUE_* */
    int32_t quality;      /* SY_QUALITY_* */
    int64_t timestamp_ns; /* host monotonic clock */
    double f64;           /* the value when type is SY_VALUE_F64 */
    int64_t i64;          /* the value when type is SY_VALUE_I64 or SY_VALUE_BOOL */
} sy_value;

/* ---- host services ----------------------------------------------------- */

/* Handed to create(); owned by the host and valid until destroy() returns.
 * Pass `context` back as the first argument of every function. */
typedef struct sy_host_api {
    uint32_t struct_size; /* sizeof(sy_host_api) in the host's header: 72 for ABI 1.0, 88 for 1.1 */
    void *context;        /* the host's, opaque: pass it back unchanged */

    /* [thread-safe] Writes a line to the host log, attributed to this instance. */
    void (*log)(void *context, int32_t level, const char *message);

    /* [thread-safe] The host's monotonic clock in ns. Plugins must use this
     * rather than the system clock so that tests with a manual clock stay
     * deterministic. */
    int64_t (*monotonic_ns)(void *context);

    /* [thread-safe] The host's wall clock, ns since the Unix epoch. */
    int64_t (*wall_clock_ns)(void *context);

    /* [control] Resolves a channel address to a handle. A controller names
     * "device_id/Channel" (the channel's own name or its standard name, e.g.
     * "bms_main/Soc" or "bms_main/ess.Soc"); a driver names its own channels
     * without the device part ("Soc"). Returns SY_CHANNEL_INVALID and fills
     * error when the address does not exist. */
    sy_channel (*channel)(void *context, const char *address, char *error, size_t error_capacity);

    /* [cycle] Reads a channel from this cycle's process image snapshot.
     * SY_ERR_UNAVAILABLE for an invalid handle. */
    sy_status (*read)(void *context, sy_channel channel, sy_value *out);

    /* [cycle] Requests a setpoint. The first controller to set a channel in a
     * cycle wins: later writes return SY_ERR_CONFLICT. SY_ERR_INVALID when
     * the channel is not writable (or a driver calls it), SY_ERR_UNAVAILABLE
     * for an invalid handle. */
    sy_status (*write)(void *context, sy_channel channel, const sy_value *value);

    /* [io] A driver publishes a fresh value of one of its own channels.
     * SY_ERR_UNAVAILABLE if the handle is not one of this device's channels. */
    sy_status (*publish)(void *context, sy_channel channel, const sy_value *value);

    /* ---- added in ABI 1.1: a host of 1.0 hands a shorter table, so check
     * struct_size >= offsetof(sy_host_api, publish_text) + sizeof(void *)
     * before calling. */

    /* [io] A driver publishes the text of one of its own channels (copied;
     * NUL-terminated UTF-8, NULL to clear). For a text channel (a serial
     * number, a firmware version; "type": "text" in the profile, a Modbus
     * string point) the text is the value: `quality` (SY_QUALITY_*) and
     * `timestamp_ns` are its quality and time. For a number it is the label
     * of the value published last (an enum's label, a bitfield's set bits);
     * quality and time are ignored. Text stays beside the process image:
     * controllers never see it. SY_ERR_UNAVAILABLE if the handle is not
     * one of this device's channels. */
    sy_status (*publish_text)(void *context, sy_channel channel, const char *text, int32_t quality, int64_t timestamp_ns);

    /* [io] A driver reports a condition of its device that status pages
     * should show, under a short key (e.g. "disabled_points"), as one line
     * of text; NULL or "" clears the key. The host copies both strings.
     * Keys and texts are cut at 64 and 1024 bytes; at most 16 keys. */
    void (*report)(void *context, const char *key, const char *text);
} sy_host_api;

/* ---- plugin side --------------------------------------------------------- */

typedef void *sy_instance; /* the plugin's instance, opaque to the host: what create() returned */

/* A setpoint handed to a driver's write(): the newest value requested for one
 * of its device's channels in a cycle. */
typedef struct sy_setpoint {
    sy_channel channel; /* a channel of this driver's device */
    sy_value value;     /* the requested value, as the controller wrote it */
} sy_setpoint;

/* The cycle a controller's execute() runs in; borrowed for the call. */
typedef struct sy_cycle_context {
    uint32_t struct_size;  /* sizeof(sy_cycle_context) in the host's header */
    uint64_t cycle_index;  /* counts the host's cycles; the first is 1 */
    int64_t deadline_ns;   /* monotonic time this cycle was due to start */
    int64_t wall_clock_ns; /* wall clock at the cycle start */
    int64_t period_ns;     /* the configured cycle period */
} sy_cycle_context;

/* A driver's functions (descriptor.driver when kind is SY_KIND_DRIVER).
 * The host calls them only on the device's own worker thread, one at a time. */
typedef struct sy_driver_api {
    uint32_t struct_size; /* sizeof(sy_driver_api) in the plugin's header */
    /* [io] Connects to the device. Called again after a failure, with backoff. */
    sy_status (*start)(sy_instance instance, char *error, size_t error_capacity);
    /* [io] Reads one poll group and publishes its values. */
    sy_status (*poll)(sy_instance instance, const char *group, char *error, size_t error_capacity);
    /* [io] Writes setpoints (borrowed array). A refused setpoint is an error,
     * never silently dropped. */
    sy_status (*write)(sy_instance instance, const sy_setpoint *setpoints, size_t count,
                       char *error, size_t error_capacity);
    /* [io] Disconnects. start() may follow. */
    void (*stop)(sy_instance instance);
} sy_driver_api;

/* A controller's functions (descriptor.controller when kind is SY_KIND_CONTROLLER). */
typedef struct sy_controller_api {
    uint32_t struct_size; /* sizeof(sy_controller_api) in the plugin's header */
    /* [cycle] Runs once per cycle: read the process image, write setpoints. */
    sy_status (*execute)(sy_instance instance, const sy_cycle_context *cycle,
                         char *error, size_t error_capacity);
} sy_controller_api;

/* What the entry returns: who the plugin is, what it provides, its functions.
 * Static, owned by the plugin, valid as long as the library is mapped. */
typedef struct sy_plugin_descriptor {
    uint32_t abi_major;   /* SY_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor;   /* SY_ABI_MINOR the plugin was built against */
    uint32_t struct_size; /* sizeof(sy_plugin_descriptor) in the plugin's header */
    int32_t kind;         /* SY_KIND_DRIVER or SY_KIND_CONTROLLER */
    const char *plugin_id;      /* e.g. "switchyard.balancing"; unique per host */
    const char *plugin_version; /* semantic version, e.g. "1.2.0" */
    /* JSON: {"classes":[{"name":..., "description":..., "parameters":{schema}}]}.
     * See docs/plugins.md for the schema subset. */
    const char *manifest_json;

    /* [control] Creates an instance of `class_name`. instance_config_json is
     * {"id":..., "parameters":{...}} for controllers and adds "device_id",
     * "profile", "connection" and "poll_groups" for drivers. Parameters have
     * been validated against the class schema and defaults filled in. */
    sy_status (*create)(const sy_host_api *host, const char *class_name,
                        const char *instance_config_json, sy_instance *out_instance,
                        char *error, size_t error_capacity);
    /* [control] A parameter change (only parameters marked "hot" changed).
     * SY_ERR_NEEDS_RECREATE when it cannot be applied to the running
     * instance; the host then creates a new one. A driver's configure is
     * called on its device's worker thread instead, between two of its [io]
     * calls (never during a poll). */
    sy_status (*configure)(sy_instance instance, const char *parameters_json,
                           char *error, size_t error_capacity);
    /* [control] Frees the instance. No call on it follows. */
    void (*destroy)(sy_instance instance);

    const sy_driver_api *driver;         /* non-NULL iff kind == SY_KIND_DRIVER */
    const sy_controller_api *controller; /* non-NULL iff kind == SY_KIND_CONTROLLER */

    /* ---- added in ABI 1.2: the host reads it only from a plugin whose
     * abi_minor >= 2 and whose struct_size covers it; a 1.0 or 1.1 plugin
     * has no validate. */

    /* [thread-safe] Optional; NULL accepts every config. The plugin's own
     * checks of one instance config, without an instance: `class_name` and
     * the instance_config_json create() would get for it (parameters
     * validated against the schema, defaults filled in; no
     * "data_directory"). The host calls it wherever a config is validated
     * (switchyard-edge check, switchyard config validate, every apply and
     * hot reload, the sync agent's validation of a new version), on any
     * thread, possibly for several configs at once. Must not block, do I/O,
     * call the host or keep state; a call that does not return within the
     * host's limit is treated as a refusal. SY_OK accepts the config; any
     * other status refuses it, with a message that names the field and the
     * reason (e.g. "sunset_hour (5) must be after sunrise_hour (6)"). */
    sy_status (*validate)(const char *class_name, const char *instance_config_json,
                          char *error, size_t error_capacity);
} sy_plugin_descriptor;

/* The one exported symbol. Called once per load, [control]. */
const sy_plugin_descriptor *switchyard_plugin_entry_v1(void);

typedef const sy_plugin_descriptor *(*sy_plugin_entry_fn)(void); /* the entry's type, for dlsym */

#ifdef __cplusplus
}
#endif

#endif /* SWITCHYARD_PLUGIN_H */
