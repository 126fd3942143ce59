#!/usr/bin/env python3
"""Writes the seeds of tests/fuzz/corpus: protocol version 2 messages, valid and broken,
in the fuzz target's input framing (first byte: frame count; each frame a u16 big-endian
length and its bytes). The valid seeds make the replay check the encoder's round trip on
every command; the broken ones start the fuzzer next to each check. Run it from anywhere
after a change to the protocol, then replay with ctest -R fuzz.wire_decoder_corpus."""

import os
import struct
import sys

ID = bytes(range(1, 17))


def header(command, version=2):
    return b"ST" + bytes([version, command])


def u8(v):
    return bytes([v])


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def short(b):
    return u8(len(b)) + b


def long_(b):
    return u32(len(b)) + b


def headers(*pairs):
    return long_(b"".join(short(k) + u16(len(v)) + v for k, v in pairs))


def request(body=b"hello", flags=1, caller=b"", service=b"echo", timeout=5000, hs=(), rid=ID):
    return header(1) + u8(flags) + rid + u32(timeout) + short(caller) + short(service) + headers(*hs) + body


def u64(v):
    return v.to_bytes(8, "big")


def medium(b):
    return u16(len(b)) + b


EVENT_ID = u64(7) + u64(1)


def event_record(subject=b"orders.eu", body=b"hi", publisher=b"\x01store", hs=()):
    return EVENT_ID + short(publisher) + medium(subject) + headers(*hs) + long_(body)


def answer(command, body=b"done", flags=1, hs=()):
    return header(command) + u8(flags) + ID + headers(*hs) + body


SEEDS = {
    "valid_request": [request(hs=((b"trace", b"abc"),), caller=b"\x02web")],
    "valid_request_client": [request()],
    "valid_request_frames": [request(body=b"", flags=0), b"part one", b""],
    "valid_request_large_body": [request(body=b"", flags=0), b"x" * 5000],
    "valid_request_no_body": [request(body=b"", flags=0)],
    "valid_partial": [answer(2, b"chunk", hs=((b"seq", b"1"),))],
    "valid_reply": [answer(3)],
    "valid_reply_frames": [answer(3, b"", 0), b"a", b"bc"],
    "valid_error": [header(4) + ID + u16(2) + b"deadline passed"],
    "valid_ready": [header(5) + u32(10) + u32(2500) + short(b"echo") + short(b"sql.query")],
    "valid_credit": [header(6) + u32(300)],
    "valid_heartbeat": [header(7)],
    "valid_disconnect": [header(8) + b"shutting down"],
    "valid_subscribe": [header(9) + ID + u64(5) + medium(b"orders.>") + medium(b"*.created")],
    "valid_unsubscribe_all": [header(10) + ID + u64(5)],
    "valid_publish": [header(11) + u32(2) + event_record(publisher=b"", hs=((b"k", b"v"),)) + event_record(publisher=b"")],
    "valid_accepted": [header(12) + u64(7) + u64(1) + u64(1) + u64(3) + u64(9)],
    "valid_events": [header(13) + u64(1) + u64(0) + u32(2) + event_record() + event_record(b"a.b", b"", hs=((b"k", b"v"),))],
    "valid_received": [header(14) + u64(5) + u64(3)],
    "valid_batch": [header(15) + long_(request()) + long_(header(7)) + long_(answer(3))],
    "broken_batch_of_one": [header(15) + long_(header(7))],
    "broken_batch_nested": [header(15) + long_(header(7)) + long_(header(15) + long_(header(7)) + long_(header(7)))],
    "broken_batch_cut": [header(15) + long_(header(7)) + u32(9) + header(7)],
    "broken_batch_empty_message": [header(15) + long_(header(7)) + long_(b"")],
    "broken_subscribe_no_pattern": [header(9) + ID + u64(5)],
    "broken_subscribe_bad_pattern": [header(9) + ID + u64(5) + medium(b"a.>.b")],
    "broken_subscribe_session_zero": [header(9) + ID + u64(0) + medium(b"a")],
    "broken_publish_wildcard": [header(11) + u32(1) + event_record(subject=b"orders.*", publisher=b"")],
    "broken_publish_sequence_zero": [header(11) + u32(1) + u64(7) + u64(0) + short(b"") + medium(b"a") + headers() + long_(b"")],
    "broken_publish_named": [header(11) + u32(1) + event_record()],
    "broken_accepted_backwards": [header(12) + u64(7) + u64(5) + u64(4)],
    "broken_events_count_high": [header(13) + u64(1) + u64(0) + u32(3) + event_record()],
    "broken_events_no_publisher": [header(13) + u64(1) + u64(0) + u32(1) + event_record(publisher=b"")],
    "broken_received_batch_zero": [header(14) + u64(5) + u64(0)],
    "broken_no_frames": [],
    "broken_empty_envelope": [b""],
    "broken_truncated_header": [b"ST\x02"],
    "broken_signature": [b"XT\x02\x07"],
    "broken_version_1": [header(1, 1), ID, b"echo", u32(1000), b"", b"", b"hi"],
    "broken_version_3": [header(7, 3)],
    "broken_unknown_command": [header(16)],
    "broken_flags": [request(flags=3)],
    "broken_request_cut_in_id": [request()[:12]],
    "broken_request_zero_id": [request(rid=bytes(16))],
    "broken_timeout_zero": [request(timeout=0)],
    "broken_caller_layer5": [request(caller=b"\x05web")],
    "broken_service_name": [request(service=b"a b")],
    "broken_headers_truncated": [header(1) + u8(1) + ID + u32(1000) + short(b"") + short(b"echo") + u32(5) + b"\x05ab"],
    "broken_headers_entry": [request(hs=((b"a b", b"v"),))],
    "broken_small_body_not_inline": [request(body=b"", flags=0), b"small"],
    "broken_inline_and_frames": [request(), b"more"],
    "broken_inline_too_large": [request(body=b"x" * 4097)],
    "broken_trailing_bytes": [request(flags=0)],
    "broken_error_code": [header(4) + ID + u16(99) + b"x"],
    "broken_error_extra_frame": [header(4) + ID + u16(1) + b"x", b"extra"],
    "broken_ready_zero_credit": [header(5) + u32(0) + u32(1000) + short(b"echo")],
    "broken_ready_no_service": [header(5) + u32(5) + u32(1000)],
    "broken_ready_name_past_end": [header(5) + u32(5) + u32(1000) + b"\x09echo"],
    "broken_credit_short": [header(6) + b"\x00\x00\x05"],
    "broken_credit_trailing": [header(6) + u32(5) + b"\x00"],
    "broken_heartbeat_extra_frame": [header(7), b""],
    "broken_disconnect_long_reason": [header(8) + b"r" * 1025],
}


def framed(frames):
    out = bytearray([len(frames)])
    for f in frames:
        if len(f) > 0xFFFF:
            raise ValueError("a fuzz frame holds at most 65535 bytes")
        out += u16(len(f)) + f
    return bytes(out)


def main():
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(corpus, exist_ok=True)
    for name in os.listdir(corpus):
        os.remove(os.path.join(corpus, name))
    for name, frames in SEEDS.items():
        if len(frames) >= 16:
            sys.exit(f"{name}: the fuzz framing holds at most 15 frames")
        with open(os.path.join(corpus, name), "wb") as out:
            out.write(framed(frames))
    print(f"wrote {len(SEEDS)} seeds to {corpus}")


if __name__ == "__main__":
    main()
