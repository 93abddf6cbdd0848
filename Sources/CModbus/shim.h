// libmodbus (Debian: libmodbus-dev), found through pkg-config.
#include <errno.h>
#include <modbus.h>

// Exception codes arrive as errno values built by macros Swift cannot import.
static inline int sy_modbus_errno_illegal_data_address(void) { return EMBXILADD; }
static inline int sy_modbus_errno_illegal_function(void) { return EMBXILFUN; }
static inline int sy_modbus_errno_bad_data(void) { return EMBBADDATA; }
static inline int sy_modbus_errno_illegal_data_value(void) { return EMBXILVAL; }
// Exceptions 4 (server failure), 6 (busy), 0x0A and 0x0B (gateway path / target).
static inline int sy_modbus_errno_is_unit_failure(int e) { return e == EMBXSFAIL || e == EMBXSBUSY || e == EMBXGPATH || e == EMBXGTAR; }
// The Modbus exception code (1-11) an errno stands for, or 0 for any other error.
static inline int sy_modbus_exception_code(int e) {
    int code = e - MODBUS_ENOBASE;
    return code >= 1 && code <= 11 ? code : 0;
}
