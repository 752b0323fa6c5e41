/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Stable journal MESSAGE_IDs, one per kind of event hostd records. They
 * never change once released: `journalctl MESSAGE_ID=...` and alerting rules
 * depend on them. The changes' kinds map to theirs in hostd/change-log.c. */

#define MSGID_STARTED            "fd36ebf3fbf74ba98c10081627f9e0f9"
#define MSGID_STOPPED            "fc862e94f0ed489585d5dd2552643465"
#define MSGID_CONFIG_RELOADED    "2c0997955a3e468ca4e0fe0e1f9a8210"
#define MSGID_CONFIG_REJECTED    "134a479455674c60bb0e1eeddc3a653d"
#define MSGID_DOCKER_CONNECTED   "66d63b388f3f4b4bbc300eb8b44a58fa"
#define MSGID_DOCKER_LOST        "f75a425808144d33954dfa650ffe799c"
#define MSGID_FIREWALL_APPLIED   "0a3fda6f6e24408c91f5ec8487bc35a8"
#define MSGID_FIREWALL_PENDING   "4b57b576fade49a3a50a4ab66c6bedf7"
#define MSGID_FIREWALL_CONFIRMED "3866f36b32f34ca880dd48fd0d3d78fe"
#define MSGID_FIREWALL_REMOVED   "ea70a8eb810b4809968593ed16bdd8c5"
#define MSGID_FIREWALL_REPAIRED  "b714f4a97467438c96611de9c084988a"
#define MSGID_FIREWALL_ROLLBACK  "704ce01bf9a14bb686abcf98e337fa15"
#define MSGID_FIREWALL_FAILED    "2ecdbcb2663a45f2b8d9b0413564696c"
#define MSGID_FIREWALL_PEERS     "06bc3b2020be4fd1bad4d3bd843035db"
#define MSGID_CONTAINER_UNCONFINED "a534f30e5e9246ef968bc25434523e97"
#define MSGID_CONTAINER_STOPPED    "f25c71ad9d50429e8565763718b3a259"
#define MSGID_CONTAINER_CONFINED   "72d9724bd8b84568bae8ffe89c4e9bc1"
#define MSGID_SECCOMP_INSTALLED    "6f2132f557ab4673ba0fafcea7df6d33"
#define MSGID_SECCOMP_REFUSED      "32341ed7b73444f6939f55e1637a22b5"
#define MSGID_SECCOMP_EFFECTIVE    "5d0dc78fd09f44d6b092737108e59cf2"
#define MSGID_PATCH_STAGED         "707f0c624c924eaaab30ded1c30d3970"
#define MSGID_PATCH_APPLIED        "1865cebe8a164cafaa1d3417e75a9f07"
#define MSGID_PATCH_ROLLED_BACK    "bb6b7538343f447d98eb6174ecd12bcc"
#define MSGID_PATCH_FAILED         "572c3c117a4a4e07a20d6549675dcc5a"
#define MSGID_WAVE_STARTED         "8cffd8b4142a4379b4aff5032cacdfe9"
#define MSGID_WAVE_DRAINED         "3625d13eb4cd47e28046a74793decb6d"
#define MSGID_WAVE_NODE_STEP       "bfe9a3bc565245cea152299bba1f45e7"
#define MSGID_WAVE_NODE_REBOOT     "c9f0fdc100134046aba4d11ce5348600"
#define MSGID_WAVE_NODE_REPORTED   "0b0d1c1235ce4d3eb2e8bbcbd6be94e5"
#define MSGID_WAVE_ACTIVATED       "360a9da0848e40668b50c4d06abbfe3a"
