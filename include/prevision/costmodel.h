/**
 * @file costmodel.h
 * @brief the hardware model: hwloc topology, PAPI/timer calibration, machine model files, runtime prediction.
 */
#ifndef PREVISION_COSTMODEL_H
#define PREVISION_COSTMODEL_H

#include "prevision/error.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
