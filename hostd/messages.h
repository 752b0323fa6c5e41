/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Stable journal MESSAGE_IDs, one per kind of event hostd records. They
 * never change once released: `journalctl MESSAGE_ID=...` and alerting rules
 * depend on them. */

#define MSGID_STARTED            "fd36ebf3fbf74ba98c10081627f9e0f9"
#define MSGID_STOPPED            "fc862e94f0ed489585d5dd2552643465"
#define MSGID_CONFIG_RELOADED    "2c0997955a3e468ca4e0fe0e1f9a8210"
#define MSGID_CONFIG_REJECTED    "134a479455674c60bb0e1eeddc3a653d"
#define MSGID_DOCKER_CONNECTED   "66d63b388f3f4b4bbc300eb8b44a58fa"
#define MSGID_DOCKER_LOST        "f75a425808144d33954dfa650ffe799c"
