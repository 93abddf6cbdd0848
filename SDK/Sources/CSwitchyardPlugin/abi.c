// Compile-time checks of the ABI layout. The layout of these structs is the
// contract with every plugin ever built: a failing assertion here means a
// change broke binary compatibility.
#include "switchyard_plugin.h"

_Static_assert(sizeof(sy_value) == 32, "sy_value layout changed");
_Static_assert(offsetof(sy_plugin_descriptor, abi_major) == 0, "abi_major must come first");
_Static_assert(offsetof(sy_plugin_descriptor, abi_minor) == 4, "abi_minor must come second");
_Static_assert(offsetof(sy_plugin_descriptor, struct_size) == 8, "struct_size must come third");
_Static_assert(sizeof(sy_setpoint) == 40, "sy_setpoint layout changed");
// The 1.0 sizes the host accepts as the minimum for plugins built against 1.0
// (PluginLibrary.swift, *SizeByMinor). A new minor appends fields and a size.
// 1.1 grew only the host table, which the host hands out; 1.2 appended
// validate to the descriptor. The function tables keep their 1.0 sizes.
// ABI 1.0's and 1.1's descriptor ended at 80 bytes; 1.2 appended validate.
_Static_assert(offsetof(sy_plugin_descriptor, validate) == 80, "ABI 1.0 descriptor size changed");
_Static_assert(sizeof(sy_plugin_descriptor) == 88, "ABI 1.2 descriptor size changed");
_Static_assert(sizeof(sy_driver_api) == 40, "ABI 1.0 driver table size changed");
_Static_assert(sizeof(sy_controller_api) == 16, "ABI 1.0 controller table size changed");
// ABI 1.0's host table ended at 72 bytes; 1.1 appended publish_text and report.
_Static_assert(offsetof(sy_host_api, publish_text) == 72, "ABI 1.0 host table size changed");
_Static_assert(offsetof(sy_host_api, report) == 80, "ABI 1.1 host table layout changed");
_Static_assert(sizeof(sy_host_api) == 88, "ABI 1.1 host table size changed");
