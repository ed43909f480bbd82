/*
 * mc146818rtc: the PC real-time clock and its 128-byte CMOS at 0x70/0x71
 * (index register with the NMI-mask bit 7, data port). Time comes from the
 * host clock at start (-rtc base=utc|localtime|<date>) and then advances
 * with CLOCK_VIRTUAL; BCD or binary, 12/24-hour, SET bit, UIP, periodic,
 * alarm and update-ended interrupts on ISA IRQ 8, century at 0x32.
 * Spec: Motorola MC146818A datasheet. Locking: BQL.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "hw/isa.h"
#include "hw/machine.h"
#include "system/timer.h"
#include "timer-internal.h"
#include "util/module.h"

#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY       0x32

#define REG_A_UIP   0x80
#define REG_B_SET   0x80
#define REG_B_PIE   0x40
#define REG_B_AIE   0x20
#define REG_B_UIE   0x10
#define REG_B_SQWE  0x08
#define REG_B_DM    0x04
#define REG_B_24H   0x02
#define REG_C_IRQF  0x80
#define REG_C_PF    0x40
#define REG_C_AF    0x20
#define REG_C_UF    0x10
#define REG_D_VRT   0x80

#define UIP_HOLD_NS 244000          /* UIP is set this long before an update */
#define NS_PER_SEC  NANOSECONDS_PER_SECOND

typedef struct RTCState {
    IsaDevice parent;
    int32_t base_year;
    uint16_t iobase;
    uint8_t isairq;
    int32_t lost_tick_policy;       /* accepted; missed ticks are discarded */

    uint8_t cmos_data[128];
    uint8_t cmos_index;
    int64_t offset_ns;              /* RTC time (ns since epoch) - CLOCK_VIRTUAL */
    int64_t last_update_sec;        /* last second whose UF/AF was accounted */
    bool irq_disabled;              /* HPET legacy replacement owns IRQ 8 */
    IrqLine irq;
    Timer *periodic_timer;
    Timer *update_timer;
    MemoryRegion io;
} RTCState;

static RTCState *the_rtc;

/* -rtc base= */
enum { RTC_BASE_UTC, RTC_BASE_LOCALTIME, RTC_BASE_DATE };
static int rtc_base_mode = RTC_BASE_UTC;
static time_t rtc_base_date;        /* base=<date>: guest epoch seconds at start */

bool rtc_set_base(const char *base, Error **errp)
{
    struct tm tm;
    if (!strcmp(base, "utc")) {
        rtc_base_mode = RTC_BASE_UTC;
        return true;
    }
    if (!strcmp(base, "localtime")) {
        rtc_base_mode = RTC_BASE_LOCALTIME;
        return true;
    }
    memset(&tm, 0, sizeof(tm));
    if (sscanf(base, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6 ||
        sscanf(base, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) == 3) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        rtc_base_date = timegm(&tm);
        rtc_base_mode = RTC_BASE_DATE;
        return true;
    }
    error_setg(errp, "invalid datetime format");
    error_append_hint(errp, "valid formats: '2006-06-17T16:01:21' or '2006-06-17'\n");
    return false;
}

/* Guest RTC seconds since the epoch at which the machine starts. */
static int64_t rtc_initial_seconds(void)
{
    time_t now = time(NULL);
    struct tm tm;
    switch (rtc_base_mode) {
    case RTC_BASE_LOCALTIME:
        localtime_r(&now, &tm);
        return timegm(&tm);
    case RTC_BASE_DATE:
        return rtc_base_date;
    default:
        return now;
    }
}

static int64_t rtc_now_ns(RTCState *s)
{
    return clock_get_ns(CLOCK_VIRTUAL_NS) + s->offset_ns;
}

static bool rtc_running(RTCState *s)
{
    return (s->cmos_data[RTC_REG_A] & 0x70) == 0x20 && !(s->cmos_data[RTC_REG_B] & REG_B_SET);
}

static uint8_t to_reg(RTCState *s, int v)
{
    if (s->cmos_data[RTC_REG_B] & REG_B_DM) {
        return v;
    }
    return ((v / 10) << 4) | (v % 10);
}

static int from_reg(RTCState *s, uint8_t v)
{
    if (s->cmos_data[RTC_REG_B] & REG_B_DM) {
        return v;
    }
    return ((v >> 4) & 0x0f) * 10 + (v & 0x0f);
}

static uint8_t hour_to_reg(RTCState *s, int hour)
{
    if (s->cmos_data[RTC_REG_B] & REG_B_24H) {
        return to_reg(s, hour);
    }
    int h12 = hour % 12 ? hour % 12 : 12;
    return to_reg(s, h12) | (hour >= 12 ? 0x80 : 0);
}

static int hour_from_reg(RTCState *s, uint8_t v)
{
    if (s->cmos_data[RTC_REG_B] & REG_B_24H) {
        return from_reg(s, v);
    }
    int h = from_reg(s, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

/* Write the clock registers from the current time. */
static void rtc_fill_time(RTCState *s)
{
    time_t secs = rtc_now_ns(s) / NS_PER_SEC;
    struct tm tm;
    gmtime_r(&secs, &tm);
    int year = tm.tm_year + 1900;
    s->cmos_data[RTC_SECONDS] = to_reg(s, tm.tm_sec);
    s->cmos_data[RTC_MINUTES] = to_reg(s, tm.tm_min);
    s->cmos_data[RTC_HOURS] = hour_to_reg(s, tm.tm_hour);
    s->cmos_data[RTC_DAY_OF_WEEK] = to_reg(s, tm.tm_wday + 1);
    s->cmos_data[RTC_DAY_OF_MONTH] = to_reg(s, tm.tm_mday);
    s->cmos_data[RTC_MONTH] = to_reg(s, tm.tm_mon + 1);
    /* QEMU's pc shows the year as year % 100 with the century at 0x32,
     * whatever base_year says; the PC is the only board here. */
    s->cmos_data[RTC_YEAR] = to_reg(s, year % 100);
    s->cmos_data[RTC_CENTURY] = to_reg(s, year / 100);
}

/* The guest set the clock (SET cleared): derive the new offset. */
static void rtc_take_time(RTCState *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_sec = from_reg(s, s->cmos_data[RTC_SECONDS]);
    tm.tm_min = from_reg(s, s->cmos_data[RTC_MINUTES]);
    tm.tm_hour = hour_from_reg(s, s->cmos_data[RTC_HOURS]);
    tm.tm_mday = from_reg(s, s->cmos_data[RTC_DAY_OF_MONTH]);
    tm.tm_mon = from_reg(s, s->cmos_data[RTC_MONTH]) - 1;
    int yy = from_reg(s, s->cmos_data[RTC_YEAR]);
    int century = from_reg(s, s->cmos_data[RTC_CENTURY]);
    int year;
    if (century >= 19 && century <= 99) {
        year = century * 100 + yy;
    } else {
        year = yy < 70 ? 2000 + yy : 1900 + yy;   /* century byte unusable */
    }
    tm.tm_year = year - 1900;
    int64_t secs = timegm(&tm);
    s->offset_ns = secs * NS_PER_SEC - clock_get_ns(CLOCK_VIRTUAL_NS);
    s->last_update_sec = secs;
}

static void rtc_irq_set(RTCState *s, int level)
{
    irq_set(&s->irq, level && !s->irq_disabled);
}

void rtc_set_irq_disabled(bool disabled)
{
    RTCState *s = the_rtc;
    if (s) {
        s->irq_disabled = disabled;
        rtc_irq_set(s, !!(s->cmos_data[RTC_REG_C] & REG_C_IRQF));
    }
}

static void rtc_update_irq(RTCState *s)
{
    uint8_t c = s->cmos_data[RTC_REG_C];
    uint8_t b = s->cmos_data[RTC_REG_B];
    bool on = ((c & REG_C_PF) && (b & REG_B_PIE)) || ((c & REG_C_AF) && (b & REG_B_AIE)) ||
              ((c & REG_C_UF) && (b & REG_B_UIE));
    if (on) {
        s->cmos_data[RTC_REG_C] |= REG_C_IRQF;
        rtc_irq_set(s, 1);
    }
}

static bool alarm_field_matches(RTCState *s, int alarm_reg, uint8_t now_reg)
{
    uint8_t a = s->cmos_data[alarm_reg];
    return (a & 0xc0) == 0xc0 || a == now_reg;
}

/* Account for update cycles that completed since the last check:
 * UF once per elapsed second, AF when the time matches the alarm. */
static void rtc_catch_up(RTCState *s)
{
    if (!rtc_running(s)) {
        return;
    }
    int64_t sec = rtc_now_ns(s) / NS_PER_SEC;
    if (sec == s->last_update_sec) {
        return;
    }
    s->last_update_sec = sec;
    s->cmos_data[RTC_REG_C] |= REG_C_UF;
    rtc_fill_time(s);
    if (alarm_field_matches(s, RTC_SECONDS_ALARM, s->cmos_data[RTC_SECONDS]) &&
        alarm_field_matches(s, RTC_MINUTES_ALARM, s->cmos_data[RTC_MINUTES]) &&
        alarm_field_matches(s, RTC_HOURS_ALARM, s->cmos_data[RTC_HOURS])) {
        s->cmos_data[RTC_REG_C] |= REG_C_AF;
    }
    rtc_update_irq(s);
}

static void rtc_arm_update_timer(RTCState *s)
{
    if (rtc_running(s) && (s->cmos_data[RTC_REG_B] & (REG_B_UIE | REG_B_AIE))) {
        int64_t now = rtc_now_ns(s);
        int64_t next = (now / NS_PER_SEC + 1) * NS_PER_SEC;
        timer_mod(s->update_timer, next - s->offset_ns);
    } else {
        timer_del(s->update_timer);
    }
}

static void rtc_update_timer_cb(void *opaque)
{
    RTCState *s = opaque;
    rtc_catch_up(s);
    rtc_arm_update_timer(s);
}

/* Periodic interrupt period in ns, 0 when off. */
static int64_t rtc_period_ns(RTCState *s)
{
    int rs = s->cmos_data[RTC_REG_A] & 0x0f;
    if (!rs || (s->cmos_data[RTC_REG_A] & 0x70) != 0x20) {
        return 0;
    }
    if (rs <= 2) {
        rs += 7;                 /* rates 1, 2 alias 8, 9 on a 32.768 kHz base */
    }
    int64_t ticks = 1 << (rs - 1);
    return ticks * NS_PER_SEC / 32768;
}

static void rtc_arm_periodic(RTCState *s)
{
    int64_t period = rtc_period_ns(s);
    if (!period || !(s->cmos_data[RTC_REG_B] & REG_B_PIE)) {
        timer_del(s->periodic_timer);
        return;
    }
    int64_t now = clock_get_ns(CLOCK_VIRTUAL_NS);
    timer_mod(s->periodic_timer, (now / period + 1) * period);
}

static void rtc_periodic_cb(void *opaque)
{
    RTCState *s = opaque;
    s->cmos_data[RTC_REG_C] |= REG_C_PF;
    rtc_update_irq(s);
    rtc_arm_periodic(s);
}

static void cmos_write(RTCState *s, uint8_t idx, uint8_t val)
{
    switch (idx) {
    case RTC_SECONDS_ALARM:
    case RTC_MINUTES_ALARM:
    case RTC_HOURS_ALARM:
        s->cmos_data[idx] = val;
        break;
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        s->cmos_data[idx] = val;
        if (rtc_running(s)) {
            /* Writing a running clock takes effect immediately. */
            rtc_take_time(s);
        }
        break;
    case RTC_REG_A: {
        bool was = rtc_running(s);
        s->cmos_data[RTC_REG_A] = (val & ~REG_A_UIP) | (s->cmos_data[RTC_REG_A] & REG_A_UIP);
        if (!was && rtc_running(s)) {
            rtc_take_time(s);
        }
        rtc_arm_periodic(s);
        rtc_arm_update_timer(s);
        break;
    }
    case RTC_REG_B: {
        uint8_t old = s->cmos_data[RTC_REG_B];
        if (!(old & REG_B_SET) && (val & REG_B_SET)) {
            rtc_fill_time(s);       /* freeze the registers as they read now */
        }
        if (val & REG_B_SET) {
            val &= ~REG_B_UIE;      /* SET clears UIE (datasheet) */
        }
        s->cmos_data[RTC_REG_B] = val;
        if ((old & REG_B_SET) && !(val & REG_B_SET)) {
            rtc_take_time(s);
        }
        rtc_update_irq(s);
        rtc_arm_periodic(s);
        rtc_arm_update_timer(s);
        break;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        break;                      /* read-only */
    default:
        s->cmos_data[idx] = val;
        break;
    }
}

static uint8_t cmos_read(RTCState *s, uint8_t idx)
{
    uint8_t v;
    switch (idx) {
    case RTC_SECONDS:
    case RTC_MINUTES:
    case RTC_HOURS:
    case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH:
    case RTC_MONTH:
    case RTC_YEAR:
    case RTC_CENTURY:
        if (rtc_running(s)) {
            rtc_fill_time(s);
        }
        return s->cmos_data[idx];
    case RTC_REG_A:
        v = s->cmos_data[RTC_REG_A] & ~REG_A_UIP;
        if (rtc_running(s) && rtc_now_ns(s) % NS_PER_SEC >= NS_PER_SEC - UIP_HOLD_NS) {
            v |= REG_A_UIP;
        }
        return v;
    case RTC_REG_C:
        rtc_catch_up(s);
        v = s->cmos_data[RTC_REG_C];
        s->cmos_data[RTC_REG_C] = 0;
        rtc_irq_set(s, 0);
        return v;
    case RTC_REG_D:
        return REG_D_VRT;
    default:
        return s->cmos_data[idx];
    }
}

static void rtc_ioport_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    RTCState *s = opaque;
    (void)size;
    if (!(addr & 1)) {
        /* Bit 7 is the NMI mask on the PC; NMIs are not generated here. */
        s->cmos_index = val & 0x7f;
    } else {
        cmos_write(s, s->cmos_index, val);
    }
}

static uint64_t rtc_ioport_read(void *opaque, uint64_t addr, unsigned size)
{
    RTCState *s = opaque;
    (void)size;
    if (!(addr & 1)) {
        return 0xff;
    }
    return cmos_read(s, s->cmos_index);
}

static const MemoryRegionOps rtc_ops = {
    .read = rtc_ioport_read,
    .write = rtc_ioport_write,
    .min_access = 1,
    .max_access = 1,
};

void rtc_set_memory(DeviceState *dev, int addr, uint8_t val)
{
    RTCState *s = dev ? (RTCState *)dev : the_rtc;
    if (s && addr >= 0 && addr < 128) {
        s->cmos_data[addr] = val;
    }
}

uint8_t rtc_get_memory(DeviceState *dev, int addr)
{
    RTCState *s = dev ? (RTCState *)dev : the_rtc;
    return (s && addr >= 0 && addr < 128) ? s->cmos_data[addr] : 0xff;
}

static bool rtc_realize(DeviceState *dev, Error **errp)
{
    RTCState *s = (RTCState *)dev;
    if (s->isairq >= 16) {
        error_setg(errp, "Maximum value for \"irq\" is: 15");
        return false;
    }
    s->cmos_data[RTC_REG_A] = 0x26;
    s->cmos_data[RTC_REG_B] = REG_B_24H;
    s->cmos_data[RTC_REG_C] = 0;
    s->cmos_data[RTC_REG_D] = REG_D_VRT;
    s->offset_ns = rtc_initial_seconds() * NS_PER_SEC - clock_get_ns(CLOCK_VIRTUAL_NS);
    s->last_update_sec = rtc_now_ns(s) / NS_PER_SEC;
    rtc_fill_time(s);
    s->irq = isa_get_irq(s->isairq);
    s->periodic_timer = timer_new(CLOCK_VIRTUAL_NS, rtc_periodic_cb, s);
    s->update_timer = timer_new(CLOCK_VIRTUAL_NS, rtc_update_timer_cb, s);
    mr_init_io(&s->io, "rtc", &rtc_ops, s, 2);
    isa_register_ioport(&s->parent, &s->io, s->iobase);
    if (!the_rtc) {
        the_rtc = s;
    }
    return true;
}

static void rtc_reset(DeviceState *dev)
{
    RTCState *s = (RTCState *)dev;
    s->cmos_data[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_SQWE);
    s->cmos_data[RTC_REG_C] &= ~(REG_C_UF | REG_C_IRQF | REG_C_PF | REG_C_AF);
    timer_del(s->periodic_timer);
    timer_del(s->update_timer);
    irq_lower(&s->irq);
}

/* QEMU's LostTickPolicy enum property (values accepted, behaviour is
 * always "discard"). */
static const char *const lost_tick_names[] = { "discard", "delay", "slew", NULL };

static bool parse_lost_tick(DeviceState *dev, const struct Property *prop, void *field,
                            const char *str, Error **errp)
{
    (void)dev;
    for (int i = 0; lost_tick_names[i]; i++) {
        if (!strcmp(str, lost_tick_names[i])) {
            *(int32_t *)field = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'", prop->name, str);
    return false;
}

static void print_lost_tick(const void *field, GString *out)
{
    int v = *(const int32_t *)field;
    g_string_append_printf(out, "\"%s\"", v >= 0 && v < 3 ? lost_tick_names[v] : "discard");
}

static const PropType prop_lost_tick_policy = {
    .name = "LostTickPolicy",
    .parse = parse_lost_tick,
    .print = print_lost_tick,
};

static const Property rtc_props[] = {
    DEFINE_PROP("base_year", RTCState, base_year, int32, "1980"),
    DEFINE_PROP("iobase", RTCState, iobase, uint16, "112"),
    DEFINE_PROP("irq", RTCState, isairq, uint8, "8"),
    { .name = "lost_tick_policy", .type = &prop_lost_tick_policy,
      .offset = offsetof(RTCState, lost_tick_policy), .defval = "discard", .desc = "" },
    DEFINE_PROP_END,
};

static const DeviceClass rtc_class = {
    .name = "mc146818rtc",
    .bus_type = "ISA",
    .category = "Misc devices",
    .parent = &isa_device_class,
    .instance_size = sizeof(RTCState),
    .props = rtc_props,
    .user_creatable = true,
    .realize = rtc_realize,
    .reset = rtc_reset,
};

/* base_year is kept as a property for -device compatibility; the year
 * encoding does not depend on it (see rtc_fill_time). */
DeviceState *rtc_create(int base_year, Error **errp)
{
    DeviceState *dev = dev_new("mc146818rtc", errp);
    if (!dev) {
        return NULL;
    }
    ((RTCState *)dev)->base_year = base_year;
    if (!dev_realize(dev, NULL, errp)) {
        return NULL;
    }
    return dev;
}

MODULE_INIT(rtc_register)
{
    device_class_register(&rtc_class);
}
