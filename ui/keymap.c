/*
 * Key names and codes: QEMU's QKeyCode names ("qcode", used by send-key
 * and sendkey), QEMU's key numbers (scancode set 1 with 0x80 marking the
 * 0xe0 prefix: send-key "number" keys and the RFB ExtendedKeyEvent), and
 * X11 keysyms (RFB KeyEvent, US layout), all mapped to the PS/2 keycode
 * the i8042 takes (set 1, extended keys as 0xe0xx).
 * Spec: X11 keysymdef.h values; IBM PC/AT scancode set 1.
 * Locking: none (constant tables).
 */
#include <string.h>
#include <glib.h>
#include "ui/console.h"

static const struct {
    const char *name;
    int code;
} qcodes[] = {
    { "unmapped", 0 }, { "shift", 0x2a }, { "shift_r", 0x36 }, { "alt", 0x38 },
    { "alt_r", 0xe038 }, { "ctrl", 0x1d }, { "ctrl_r", 0xe01d }, { "menu", 0xe05d },
    { "esc", 0x01 }, { "1", 0x02 }, { "2", 0x03 }, { "3", 0x04 }, { "4", 0x05 },
    { "5", 0x06 }, { "6", 0x07 }, { "7", 0x08 }, { "8", 0x09 }, { "9", 0x0a },
    { "0", 0x0b }, { "minus", 0x0c }, { "equal", 0x0d }, { "backspace", 0x0e },
    { "tab", 0x0f }, { "q", 0x10 }, { "w", 0x11 }, { "e", 0x12 }, { "r", 0x13 },
    { "t", 0x14 }, { "y", 0x15 }, { "u", 0x16 }, { "i", 0x17 }, { "o", 0x18 },
    { "p", 0x19 }, { "bracket_left", 0x1a }, { "bracket_right", 0x1b }, { "ret", 0x1c },
    { "a", 0x1e }, { "s", 0x1f }, { "d", 0x20 }, { "f", 0x21 }, { "g", 0x22 },
    { "h", 0x23 }, { "j", 0x24 }, { "k", 0x25 }, { "l", 0x26 }, { "semicolon", 0x27 },
    { "apostrophe", 0x28 }, { "grave_accent", 0x29 }, { "backslash", 0x2b },
    { "z", 0x2c }, { "x", 0x2d }, { "c", 0x2e }, { "v", 0x2f }, { "b", 0x30 },
    { "n", 0x31 }, { "m", 0x32 }, { "comma", 0x33 }, { "dot", 0x34 }, { "slash", 0x35 },
    { "asterisk", 0x37 }, { "spc", 0x39 }, { "caps_lock", 0x3a }, { "f1", 0x3b },
    { "f2", 0x3c }, { "f3", 0x3d }, { "f4", 0x3e }, { "f5", 0x3f }, { "f6", 0x40 },
    { "f7", 0x41 }, { "f8", 0x42 }, { "f9", 0x43 }, { "f10", 0x44 }, { "num_lock", 0x45 },
    { "scroll_lock", 0x46 }, { "kp_divide", 0xe035 }, { "kp_multiply", 0x37 },
    { "kp_subtract", 0x4a }, { "kp_add", 0x4e }, { "kp_enter", 0xe01c },
    { "kp_decimal", 0x53 }, { "sysrq", 0x54 }, { "kp_0", 0x52 }, { "kp_1", 0x4f },
    { "kp_2", 0x50 }, { "kp_3", 0x51 }, { "kp_4", 0x4b }, { "kp_5", 0x4c },
    { "kp_6", 0x4d }, { "kp_7", 0x47 }, { "kp_8", 0x48 }, { "kp_9", 0x49 },
    { "less", 0x56 }, { "f11", 0x57 }, { "f12", 0x58 }, { "print", 0xe037 },
    { "home", 0xe047 }, { "pgup", 0xe049 }, { "pgdn", 0xe051 }, { "end", 0xe04f },
    { "left", 0xe04b }, { "up", 0xe048 }, { "down", 0xe050 }, { "right", 0xe04d },
    { "insert", 0xe052 }, { "delete", 0xe053 }, { "stop", 0xe068 }, { "again", 0xe005 },
    { "props", 0xe006 }, { "undo", 0xe007 }, { "front", 0xe00c }, { "copy", 0xe078 },
    { "open", 0x64 }, { "paste", 0x65 }, { "find", 0xe041 }, { "cut", 0xe03c },
    { "lf", 0x5b }, { "help", 0xe075 }, { "meta_l", 0xe05b }, { "meta_r", 0xe05c },
    { "compose", 0xe05d }, { "pause", 0xe046 }, { "ro", 0x73 }, { "hiragana", 0x77 },
    { "henkan", 0x79 }, { "yen", 0x7d }, { "muhenkan", 0x7b }, { "katakanahiragana", 0x70 },
    { "kp_comma", 0x7e }, { "kp_equals", 0x59 }, { "power", 0xe05e }, { "sleep", 0xe05f },
    { "wake", 0xe063 }, { "audionext", 0xe019 }, { "audioprev", 0xe010 },
    { "audiostop", 0xe024 }, { "audioplay", 0xe022 }, { "audiomute", 0xe020 },
    { "volumeup", 0xe030 }, { "volumedown", 0xe02e }, { "mediaselect", 0xe06d },
    { "mail", 0xe06c }, { "calculator", 0xe021 }, { "computer", 0xe06b },
    { "ac_home", 0xe032 }, { "ac_back", 0xe06a }, { "ac_forward", 0xe069 },
    { "ac_refresh", 0xe067 }, { "ac_bookmarks", 0xe066 },
    { "katakana", 0x78 }, { "lang1", 0x72 }, { "lang2", 0x71 },
    { "f13", 0x5d }, { "f14", 0x5e }, { "f15", 0x5f }, { "f16", 0x55 }, { "f17", 0xe003 },
    { "f18", 0xe077 }, { "f19", 0xe004 }, { "f20", 0x5a }, { "f21", 0x74 },
    { "f22", 0xe079 }, { "f23", 0x6d }, { "f24", 0x6f },
};

int qcode_to_keycode(const char *qcode)
{
    for (size_t i = 0; i < G_N_ELEMENTS(qcodes); i++) {
        if (!strcmp(qcodes[i].name, qcode)) {
            return qcodes[i].code;
        }
    }
    return -1;
}

int qnum_to_keycode(int qnum)
{
    if (qnum <= 0 || qnum > 0xff) {
        return 0;
    }
    return (qnum & 0x80) ? (0xe000 | (qnum & 0x7f)) : qnum;
}

static int ascii_keycode(uint32_t c)
{
    static const char *const shifted_from = "!@#$%^&*()_+{}|:\"~<>?";
    static const char *const shifted_to = "1234567890-=[]\\;'`,./";
    static const char *const plain = "1234567890-=qwertyuiop[]asdfghjkl;'`\\zxcvbnm,./";
    static const uint8_t plain_codes[] = {
        0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
        0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2b,
        0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
    };
    if (c == ' ') {
        return 0x39;
    }
    if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
    }
    const char *p = strchr(shifted_from, (int)c);
    if (c && p) {
        c = (uint32_t)shifted_to[p - shifted_from];
    }
    p = c ? strchr(plain, (int)c) : NULL;
    return p ? plain_codes[p - plain] : 0;
}

int keysym_to_keycode(uint32_t keysym)
{
    if (keysym >= 0x20 && keysym < 0x7f) {
        return ascii_keycode(keysym);
    }
    if (keysym >= 0xffbe && keysym <= 0xffc7) {          /* F1-F10 */
        return 0x3b + (int)(keysym - 0xffbe);
    }
    if (keysym >= 0xffb0 && keysym <= 0xffb9) {          /* KP_0-9 */
        static const uint8_t kp[10] = { 0x52, 0x4f, 0x50, 0x51, 0x4b, 0x4c, 0x4d, 0x47, 0x48, 0x49 };
        return kp[keysym - 0xffb0];
    }
    switch (keysym) {
    case 0xffc8: return 0x57;            /* F11 */
    case 0xffc9: return 0x58;            /* F12 */
    case 0xff08: return 0x0e;            /* BackSpace */
    case 0xff09: return 0x0f;            /* Tab */
    case 0xfe20: return 0x0f;            /* ISO_Left_Tab */
    case 0xff0d: return 0x1c;            /* Return */
    case 0xff1b: return 0x01;            /* Escape */
    case 0xffff: return 0xe053;          /* Delete */
    case 0xff50: return 0xe047;          /* Home */
    case 0xff51: return 0xe04b;          /* Left */
    case 0xff52: return 0xe048;          /* Up */
    case 0xff53: return 0xe04d;          /* Right */
    case 0xff54: return 0xe050;          /* Down */
    case 0xff55: return 0xe049;          /* Prior */
    case 0xff56: return 0xe051;          /* Next */
    case 0xff57: return 0xe04f;          /* End */
    case 0xff63: return 0xe052;          /* Insert */
    case 0xff61: return 0xe037;          /* Print */
    case 0xff13: return 0xe046;          /* Pause */
    case 0xff14: return 0x46;            /* Scroll_Lock */
    case 0xff7f: return 0x45;            /* Num_Lock */
    case 0xffe5: return 0x3a;            /* Caps_Lock */
    case 0xffe1: return 0x2a;            /* Shift_L */
    case 0xffe2: return 0x36;            /* Shift_R */
    case 0xffe3: return 0x1d;            /* Control_L */
    case 0xffe4: return 0xe01d;          /* Control_R */
    case 0xffe7: case 0xffe9: return 0x38;       /* Meta_L, Alt_L */
    case 0xffe8: case 0xffea: case 0xfe03: return 0xe038;   /* Meta_R, Alt_R, AltGr */
    case 0xffeb: return 0xe05b;          /* Super_L */
    case 0xffec: return 0xe05c;          /* Super_R */
    case 0xff67: return 0xe05d;          /* Menu */
    case 0xff8d: return 0xe01c;          /* KP_Enter */
    case 0xffaa: return 0x37;            /* KP_Multiply */
    case 0xffab: return 0x4e;            /* KP_Add */
    case 0xffad: return 0x4a;            /* KP_Subtract */
    case 0xffae: case 0xff9f: return 0x53;       /* KP_Decimal, KP_Delete */
    case 0xffaf: return 0xe035;          /* KP_Divide */
    case 0xff95: return 0x47;            /* KP_Home */
    case 0xff97: return 0x48;            /* KP_Up */
    case 0xff9a: return 0x49;            /* KP_Prior */
    case 0xff96: return 0x4b;            /* KP_Left */
    case 0xff9d: return 0x4c;            /* KP_Begin */
    case 0xff98: return 0x4d;            /* KP_Right */
    case 0xff9c: return 0x4f;            /* KP_End */
    case 0xff99: return 0x50;            /* KP_Down */
    case 0xff9b: return 0x51;            /* KP_Next */
    case 0xff9e: return 0x52;            /* KP_Insert */
    default: return 0;
    }
}
