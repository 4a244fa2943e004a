/**
 * @file provisioner.h
 * @brief plans, launches, history and gating.
 */
#ifndef PREVISION_PROVISIONER_H
#define PREVISION_PROVISIONER_H

#include "prevision/error.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
