// SPDX-License-Identifier: Apache-2.0
/* memfd.c - dhidebug-init in a sealed memfd, ready to be executed. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdio.h"
#include "injector/init/init.h"

/* image.S: the built dhidebug-init */
extern const unsigned char dhi_init_image[], dhi_init_image_end[];

int init_memfd(struct dhi_err **err)
{
	dhi_autoclose int fd = memfd_create("dhidebug-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return dhi_err_set(err, errno, "cannot create a memfd for dhidebug-init");
	if (fd_write_all(fd, dhi_init_image, (size_t)(dhi_init_image_end - dhi_init_image)) < 0 ||
	    fchmod(fd, 0555) < 0)
		return dhi_err_set(err, errno, "cannot write dhidebug-init");
	/* nobody, the container through /proc/<pid>/exe included, can change it now */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return dhi_err_set(err, errno, "cannot seal dhidebug-init");
	return dhi_steal_fd(&fd);
}
