// SPDX-License-Identifier: Apache-2.0
/*
 * player.c - asciinema-player's JS and CSS (the npm package, fetched once into
 * build/npm by the Makefile), embedded with .incbin so that dhidebug stays one
 * binary and `sessions export` needs no file at run time. Each blob ends with a
 * NUL (not counted in its length).
 */
#include <stddef.h>

#include "injector/record/sessions.h"

#if !defined(SESSIONS_PLAYER_JS) || !defined(SESSIONS_PLAYER_CSS)
#error "build with -DSESSIONS_PLAYER_JS=<path> -DSESSIONS_PLAYER_CSS=<path> (see the Makefile)"
#endif

#define EMBED(name, path)                                                   \
	__asm__(".pushsection .rodata\n"                                    \
		".global " #name "\n"                                       \
		".type " #name ", @object\n"                                \
		".balign 16\n" #name ":\n"                                  \
		".incbin \"" path "\"\n"                                    \
		".L" #name "_end:\n"                                        \
		".byte 0\n"                                                 \
		".global " #name "_len\n"                                   \
		".type " #name "_len, @object\n"                            \
		".balign 8\n" #name "_len:\n"                               \
		".quad .L" #name "_end - " #name "\n"                        \
		".popsection\n")

_Static_assert(sizeof(size_t) == 8, "the embedded lengths are .quad");

EMBED(sessions_player_js, SESSIONS_PLAYER_JS);
EMBED(sessions_player_css, SESSIONS_PLAYER_CSS);
