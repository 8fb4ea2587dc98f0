/* Kernel TTY auditing (AUDIT_TTY_SET over netlink), as pam_tty_audit does it:
 * a second record of a recorded session's input where auditd runs. Best effort. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/netlink.h>

#include "module.h"

int module_tty_audit_enable(void)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	struct {
		struct nlmsghdr hdr;
		struct audit_tty_status s;
	} req;
	union {
		struct nlmsghdr hdr;
		char buf[256];
	} ack;
	ssize_t n;
	int fd, r = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&req, 0, sizeof(req));
	req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof(req.s));
	req.hdr.nlmsg_type = AUDIT_TTY_SET;
	req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.hdr.nlmsg_seq = 1;
	req.s.enabled = 1;
	req.s.log_passwd = 0;   /* never input typed with echo off */
	if (sendto(fd, &req, req.hdr.nlmsg_len, 0, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		goto out;
	}
	n = recv(fd, &ack, sizeof(ack), 0);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if ((size_t)n >= NLMSG_LENGTH(sizeof(struct nlmsgerr)) && ack.hdr.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&ack.hdr);

		r = e->error;   /* 0 is the acknowledgement */
	}
out:
	close(fd);
	return r;
}
