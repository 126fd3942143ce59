#!/usr/bin/python3
"""Reads a delivered message as a mail program would: Python's email package with its
default (RFC 5322) policy. Prints one JSON object: the defects found in every part, the
longest line in octets, the decoded addressing headers and Subject, every other header
named on the command line, and the decoded body text.

Usage: read_mail.py MESSAGE.eml [HEADER...]
"""
import email
import email.policy
import json
import sys


def mailboxes(message, name):
    header = message[name]
    if header is None:
        return []
    return [[a.display_name, a.addr_spec] for a in header.addresses]


def main():
    raw = open(sys.argv[1], "rb").read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    defects = []
    for part in message.walk():
        defects += [type(d).__name__ for d in part.defects]
        for name, value in part.items():
            defects += [type(d).__name__ for d in getattr(value, "defects", ())]
    out = {
        "defects": defects,
        "longest_line": max(len(line) for line in raw.split(b"\r\n")),
        "seven_bit": all(byte < 0x80 for byte in raw),
        "from": mailboxes(message, "From"),
        "to": mailboxes(message, "To"),
        "cc": mailboxes(message, "Cc"),
        "reply_to": mailboxes(message, "Reply-To"),
        "subject": str(message["Subject"]),
        "headers": {name: str(message[name]) for name in sys.argv[2:]},
        "body": message.get_content(),
    }
    print(json.dumps(out, ensure_ascii=False))


main()
