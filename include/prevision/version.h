/**
 * @file version.h
 * @brief prevision's own version.
 */
#ifndef PREVISION_VERSION_H
#define PREVISION_VERSION_H

#define PV_VERSION_MAJOR 0
#define PV_VERSION_MINOR 1
#define PV_VERSION_PATCH 0
#define PV_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/** @return "prevision 0.1.0" (static string). */
const char *pv_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
