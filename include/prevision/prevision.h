/**
 * @file prevision.h
 * @brief Umbrella header: everything public in libprevision.
 */
#ifndef PREVISION_H
#define PREVISION_H

#include "prevision/error.h"
#include "prevision/json.h"
#include "prevision/log.h"
#include "prevision/mix.h"
#include "prevision/profile.h"
#include "prevision/version.h"

#endif
