/*
 * The display back-ends kemu has: none (also -nographic: the VGA exists
 * but nothing shows it) and vnc (-vnc / -display vnc=...). Other -display
 * types are refused as a QEMU built without them refuses them.
 * Locking: startup in main(), then BQL.
 */
#include <stdlib.h>
#include <string.h>
#include "hw/machine.h"
#include "system/runstate.h"
#include "ui/display.h"

static const char *vnc_arg, *vnc_opt_name;

static void vnc_exit_notify(Notifier *n, void *data)
{
    vnc_shutdown();
}

static Notifier vnc_exit_notifier = { .fn = vnc_exit_notify };

void display_configure(const char *display, const char *vnc, bool nographic)
{
    (void)nographic;
    if (display) {
        if (!strcmp(display, "vnc") || g_str_has_prefix(display, "vnc,")) {
            loc_set_option("-display", display);
            error_report("VNC requires a display argument vnc=<display>");
            exit(1);
        }
        if (g_str_has_prefix(display, "vnc=")) {
            vnc_arg = display + 4;
            vnc_opt_name = "-display";
        } else {
            KVDict *d = kv_parse(display, "type", NULL);
            const char *dt = d ? kv_peek(d, "type") : NULL;
            if (!dt || strcmp(dt, "none")) {
                /* like a QEMU built without that display type */
                loc_set_option("-display", display);
                error_report("Parameter 'type' does not accept value '%s'", dt ? dt : display);
                exit(1);
            }
            kv_free(d);
        }
    }
    if (vnc) {
        vnc_arg = vnc;
        vnc_opt_name = "-vnc";
    }
    if (vnc_arg) {
        Error *err = NULL;
        loc_set_option(vnc_opt_name, vnc_opt_name[1] == 'd' ? g_strdup_printf("vnc=%s", vnc_arg) : vnc_arg);
        if (!vnc_parse(vnc_arg, &err)) {
            error_report_err(err);
            exit(1);
        }
        loc_clear();
    }
}

void display_start(void)
{
    Error *err = NULL;
    if (!vnc_arg) {
        return;
    }
    if (!vnc_start(&err)) {
        loc_set_option(vnc_opt_name, vnc_opt_name[1] == 'd' ? g_strdup_printf("vnc=%s", vnc_arg) : vnc_arg);
        error_report_err(err);
        exit(1);
    }
    qemu_register_exit_notifier(&vnc_exit_notifier);
}

const char *display_guest_name(void)
{
    return current_machine ? current_machine->name : NULL;
}
