/**
 * @file emulator.h
 * @brief the sandboxed Unicorn user-mode Linux x86-64 profiler: loader, syscall layer and sandbox, block counting, memory and cache measurement.
 */
#ifndef PREVISION_EMULATOR_H
#define PREVISION_EMULATOR_H

#include "prevision/error.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
