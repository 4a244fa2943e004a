#include "prevision/version.h"

const char *pv_version_string(void) { return "prevision " PV_VERSION_STRING; }
