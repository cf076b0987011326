// SPDX-License-Identifier: Apache-2.0
/*
 * ontty: run a command on a fresh terminal, for bench/record. The command gets a new session
 * with the slave of a new pty as its controlling terminal and as its stdin, stdout and stderr
 * (120x30, the pty's default modes: ECHO, ICANON, ONLCR); ontty reads everything the command
 * writes to the terminal from the master and throws it away, as a terminal emulator that
 * draws nothing would, and writes nothing to it.
 *
 *   ontty COMMAND [ARG...]
 *
 * Exit status: the command's (128 + N when killed by signal N); 125 when ontty fails.
 * SIGINT, SIGTERM and SIGHUP are passed on to the command, which is then waited for.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

int main(int argc, char **argv)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
	struct winsize ws = { .ws_row = 30, .ws_col = 120 };
	struct sigaction sa = { .sa_handler = on_stop };
	static char buf[1 << 16];
	char name[64];
	int master, slave, status;
	size_t i;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: ontty COMMAND [ARG...]\n");
		return 2;
	}
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
	    ptsname_r(master, name, sizeof(name)) != 0) {
		perror("ontty: pty");
		return 125;
	}
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0 || ioctl(master, TIOCSWINSZ, &ws) < 0) {
		perror("ontty: pty slave");
		return 125;
	}
	pid = fork();
	if (pid < 0) {
		perror("ontty: fork");
		return 125;
	}
	if (pid == 0) {
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 ||
		    dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
			perror("ontty: controlling terminal");
			_exit(125);
		}
		execvp(argv[1], argv + 1);
		fprintf(stderr, "ontty: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	close(slave);
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);

	/* Drain until every holder of the slave is gone (read fails with EIO). */
	for (;;) {
		struct pollfd p = { master, POLLIN, 0 };
		ssize_t n;

		if (stop_sig) {
			kill(pid, stop_sig);
			stop_sig = 0;
		}
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("ontty: poll");
			break;
		}
		n = read(master, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		break;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("ontty: waitpid");
			return 125;
		}
		if (stop_sig)
			kill(pid, stop_sig);
	}
	close(master);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
