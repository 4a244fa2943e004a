/**
 * @file prevision.h
 * @brief Umbrella header: everything public in libprevision.
 */
#ifndef PREVISION_H
#define PREVISION_H

#include "prevision/analyzer.h"
#include "prevision/costmodel.h"
#include "prevision/emulator.h"
#include "prevision/error.h"
#include "prevision/json.h"
#include "prevision/log.h"
#include "prevision/mix.h"
#include "prevision/profile.h"
#include "prevision/provisioner.h"
#include "prevision/source.h"
#include "prevision/version.h"

#endif
