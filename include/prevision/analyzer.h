/**
 * @file analyzer.h
 * @brief the binary analyzer: ELF (libelf), x86-64 decoding into mix classes (Capstone), CFG, loops, call graph, DWARF lines (libdw), library usage, static cycle estimates.
 */
#ifndef PREVISION_ANALYZER_H
#define PREVISION_ANALYZER_H

#include "prevision/error.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
