// SPDX-License-Identifier: Apache-2.0
/*
 * timeit: run a command N times and print each run's wall-clock time in nanoseconds, one per
 * line, for bench/run. The clock starts before the fork and stops when waitpid() returns, so a
 * time covers everything the caller of the command waits for, and nothing of a shell.
 *
 *   timeit [-w WARMUP] [-o LOG] N -- COMMAND [ARG...]
 *
 * The command's stdin is /dev/null and its stdout and stderr go to LOG (default /dev/null).
 * Warm-up runs are not printed. Every run must exit 0: the first that does not stops timeit
 * with status 1 and a message on stderr, so a failing command never produces a number.
 * SIGINT, SIGTERM and SIGHUP are passed on to the running command; timeit then waits for it
 * and exits with 128 + the signal, so whoever stops timeit can clean up after both.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr, "usage: timeit [-w WARMUP] [-o LOG] N -- COMMAND [ARG...]\n");
	exit(2);
}

/* One run; returns its time in ns, or -1 (with a message) when it did not exit 0. */
static long long run_once(char **argv, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr)
{
	long long t0, t1;
	pid_t pid;
	int err, status;

	if (stop_sig)
		return -1;
	t0 = now_ns();
	err = posix_spawnp(&pid, argv[0], fa, attr, argv, environ);
	if (err) {
		fprintf(stderr, "timeit: %s: %s\n", argv[0], strerror(err));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("timeit: waitpid");
			return -1;
		}
		if (stop_sig)
			kill(pid, stop_sig);
	}
	t1 = now_ns();
	if (stop_sig)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return t1 - t0;
	if (WIFEXITED(status))
		fprintf(stderr, "timeit: %s exited with status %d\n", argv[0], WEXITSTATUS(status));
	else
		fprintf(stderr, "timeit: %s killed by signal %d\n", argv[0], WTERMSIG(status));
	return -1;
}

int main(int argc, char **argv)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_stop };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	const char *log = "/dev/null";
	long warmup = 1, n, i;
	sigset_t deflt;
	long long t;
	int opt;

	while ((opt = getopt(argc, argv, "+w:o:")) != -1) {
		switch (opt) {
		case 'w':
			warmup = strtol(optarg, NULL, 10);
			break;
		case 'o':
			log = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0)
		usage();
	n = strtol(argv[optind], NULL, 10);
	if (n < 1 || warmup < 0)
		usage();
	argv += optind + 2;

	/*
	 * No SA_RESTART: the signal must interrupt waitpid() to be passed on. The command gets
	 * the default dispositions back, whatever timeit was started with (a shell's background
	 * job starts with SIGINT ignored).
	 */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&deflt);
	for (i = 0; i < (long)(sizeof(stops) / sizeof(stops[0])); i++) {
		sigaction(stops[i], &sa, NULL);
		sigaddset(&deflt, stops[i]);
	}
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);

	for (i = 0; i < warmup + n; i++) {
		t = run_once(argv, &fa, &attr);
		if (t < 0)
			return stop_sig ? 128 + stop_sig : 1;
		if (i >= warmup)
			printf("%lld\n", t);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return fflush(stdout) == 0 ? 0 : 1;
}
