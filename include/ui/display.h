/*
 * Display configuration from the command line (-display, -vnc,
 * -nographic) and the VNC server's entry points (ui/display.c, ui/vnc.c).
 * Locking: startup in main(), then BQL.
 */
#ifndef UI_DISPLAY_H
#define UI_DISPLAY_H

#include <stdbool.h>
#include "util/error.h"
#include "util/json.h"

/* Check -display/-vnc/-nographic; exits with QEMU's message on errors. */
void display_configure(const char *display, const char *vnc, bool nographic);
/* After the machine exists: start the VNC server (exits on failure). */
void display_start(void);
/* -name guest=..., for the VNC desktop name; NULL when unnamed. */
const char *display_guest_name(void);

bool vnc_parse(const char *arg, Error **errp);
bool vnc_start(Error **errp);
void vnc_shutdown(void);
/* query-vnc's reply. */
JsonValue *vnc_query(void);

#endif
