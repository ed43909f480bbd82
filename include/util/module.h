/*
 * One registration mechanism for devices, machines, accelerators, block
 * drivers, netdevs and chardevs: a constructor run before main().
 * Everything is linked with link_whole so registrations are never dropped.
 */
#ifndef UTIL_MODULE_H
#define UTIL_MODULE_H

#define MODULE_INIT(fn) static void __attribute__((constructor)) fn(void)

#endif
