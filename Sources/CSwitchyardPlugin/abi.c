// Compile-time checks of the ABI layout. The layout of these structs is the
// contract with every plugin ever built: a failing assertion here means a
// change broke binary compatibility.
#include "switchyard_plugin.h"

_Static_assert(sizeof(sy_value) == 32, "sy_value layout changed");
_Static_assert(offsetof(sy_plugin_descriptor, abi_major) == 0, "abi_major must come first");
_Static_assert(offsetof(sy_plugin_descriptor, abi_minor) == 4, "abi_minor must come second");
_Static_assert(offsetof(sy_plugin_descriptor, struct_size) == 8, "struct_size must come third");
_Static_assert(sizeof(sy_setpoint) == 40, "sy_setpoint layout changed");
