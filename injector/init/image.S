/* SPDX-License-Identifier: Apache-2.0 */
/* image.S - dhidebug-init's binary inside dhidebug (INIT_BIN names the built file). */
	.section .rodata
	.balign 16
	.global dhi_init_image
	.type dhi_init_image, @object
dhi_init_image:
	.incbin INIT_BIN
	.global dhi_init_image_end
dhi_init_image_end:
	.section .note.GNU-stack, "", @progbits
