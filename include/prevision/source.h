/**
 * @file source.h
 * @brief the source front end of the analyzer: libclang AST pass (loops, trip counts, allocations, parallelism) and LLVM-C IR pass (operation counts), merged into a profile by file:line.
 */
#ifndef PREVISION_SOURCE_H
#define PREVISION_SOURCE_H

#include "prevision/error.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
