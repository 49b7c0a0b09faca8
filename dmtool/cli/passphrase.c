// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Passphrases from a key file, standard input or the terminal, into locked
 * memory. Never from the command line: argv is visible to every user.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* cryptsetup's default limit for a key file, 8 MiB. */
#define KEY_FILE_MAX (8u * 1024 * 1024)
#define PASSPHRASE_MAX 512

static struct dmt_secret *read_key_fd(int fd, const char *what, int *code)
{
	struct dmt_secret *secret = dmt_secret_new(KEY_FILE_MAX);
	ssize_t got;

	if (!secret) {
		*code = cli_error(DMT_ERR_FAILED, "cannot allocate locked memory for the key");
		return NULL;
	}

	while (secret->size < KEY_FILE_MAX) {
		got = read(fd, secret->data + secret->size,
			   KEY_FILE_MAX - secret->size);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*code = cli_error(DMT_ERR_KEY, "%s: reading the key failed: %s",
					  what, strerror(errno));
			goto free_secret;
		}
		if (got == 0)
			break;
		secret->size += (size_t)got;
	}
	if (secret->size == 0) {
		*code = cli_error(DMT_ERR_KEY, "%s: the key is empty", what);
		goto free_secret;
	}
	return secret;

free_secret:
	dmt_secret_free(secret);
	return NULL;
}

static struct dmt_secret *read_key_file(const char *path, int *code)
{
	struct dmt_secret *secret;
	int fd;

	if (strcmp(path, "-") == 0)
		return read_key_fd(STDIN_FILENO, "standard input", code);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*code = cli_error(DMT_ERR_KEY, "%s: cannot open the key file: %s",
				  path, strerror(errno));
		return NULL;
	}
	secret = read_key_fd(fd, path, code);
	close(fd);
	return secret;
}

/* Reads one line from the terminal with echo off. */
static int prompt_line(int tty, const char *prompt, struct dmt_secret *secret)
{
	struct termios saved, quiet;
	char c;
	ssize_t got;
	int r = 0;

	if (write(tty, prompt, strlen(prompt)) < 0 || tcgetattr(tty, &saved))
		return -errno;
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(tty, TCSAFLUSH, &quiet))
		return -errno;

	secret->size = 0;
	while ((got = read(tty, &c, 1)) == 1 && c != '\n') {
		if (secret->size + 1 >= secret->capacity) {
			r = -E2BIG;
			break;
		}
		secret->data[secret->size++] = c;
	}
	if (got < 0)
		r = -errno;
	explicit_bzero(&c, sizeof(c));
	tcsetattr(tty, TCSAFLUSH, &saved);
	if (write(tty, "\n", 1) < 0)
		r = r ? r : -errno;
	return r;
}

static struct dmt_secret *read_terminal(const char *prompt, bool confirm,
					int *code)
{
	struct dmt_secret *secret = dmt_secret_new(PASSPHRASE_MAX);
	struct dmt_secret *again = NULL;
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (tty < 0) {
		*code = cli_error(DMT_ERR_USAGE,
				  "no terminal to ask for the passphrase: give --key-file FILE (or - for standard input)");
		goto free_secret;
	}
	if (!secret) {
		*code = cli_error(DMT_ERR_FAILED, "cannot allocate locked memory for the passphrase");
		goto close_tty;
	}
	if (prompt_line(tty, prompt, secret) < 0 || secret->size == 0) {
		*code = cli_error(DMT_ERR_KEY, "no passphrase entered");
		goto close_tty;
	}
	if (confirm) {
		again = dmt_secret_new(PASSPHRASE_MAX);
		if (!again || prompt_line(tty, "Verify passphrase: ", again) < 0 ||
		    again->size != secret->size ||
		    memcmp(again->data, secret->data, secret->size) != 0) {
			*code = cli_error(DMT_ERR_KEY, "the passphrases do not match");
			dmt_secret_free(again);
			goto close_tty;
		}
		dmt_secret_free(again);
	}
	close(tty);
	return secret;

close_tty:
	close(tty);
free_secret:
	dmt_secret_free(secret);
	return NULL;
}

struct dmt_secret *cli_read_passphrase(const struct key_source *source,
				       const char *prompt, int *code)
{
	if (source->key_file)
		return read_key_file(source->key_file, code);
	return read_terminal(prompt, source->confirm, code);
}
