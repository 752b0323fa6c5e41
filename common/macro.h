/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Small helpers shared by every module: cleanup attributes so that error
 * paths free what they own, and a few size/compare macros. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _warn_unused_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STREQ(a, b) (strcmp((a), (b)) == 0)
/* equal, or both NULL */
#define STREQ_PTR(a, b) ((a) && (b) ? strcmp((a), (b)) == 0 : (a) == (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Defines NAME##p(type **p) that calls func(*p); func must accept NULL. */
#define DEFINE_CLEANUP_FUNC(type, func)                                        \
        static inline void func##p(type **p) {                                 \
                func(*p);                                                      \
                *p = NULL;                                                     \
        }

static inline void freep(void *p) {
        free(*(void **) p);
        *(void **) p = NULL;
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
        *fd = -1;
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
        *f = NULL;
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hands ownership out of a cleanup variable: return TAKE_PTR(p); */
#define TAKE_PTR(p)                                                            \
        ({                                                                     \
                __typeof__(p) _taken = (p);                                    \
                (p) = NULL;                                                    \
                _taken;                                                        \
        })
#define TAKE_FD(fd)                                                            \
        ({                                                                     \
                int _taken = (fd);                                             \
                (fd) = -1;                                                     \
                _taken;                                                        \
        })

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
