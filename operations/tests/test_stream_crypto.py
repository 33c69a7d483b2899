"""The chunked AES-256-GCM container (operations.stream_crypto): round trips, and every kind of damage refused."""

import io
import os
import struct

import pytest

from operations.stream_crypto import MAGIC, EncryptingWriter, StreamError, decrypt_stream

KEY = bytes(range(32))


def seal(data: bytes, chunk_size: int = 16, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    writer = EncryptingWriter(out, key, {"purpose": "test"}, chunk_size=chunk_size)
    for start in range(0, len(data), 7):  # written in pieces that do not line up with the chunks
        writer.write(data[start : start + 7])
    writer.close()
    assert writer.size == len(out.getvalue())
    return out.getvalue()


def unseal(blob: bytes, key: bytes = KEY) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(blob), lambda fields: key))


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 48, 100])
def test_what_goes_in_comes_out_whatever_its_size(size):
    data = os.urandom(size)
    blob = seal(data)
    if size >= 8:  # a shorter random string can turn up in the header or the ciphertext by chance
        assert data not in blob
    assert unseal(blob) == data


def test_the_same_data_twice_gives_different_files():
    assert seal(b"x" * 40) != seal(b"x" * 40)


def test_every_flipped_byte_is_detected():
    blob = seal(b"abcdefghij" * 5)
    for position in range(len(blob)):
        damaged = bytearray(blob)
        damaged[position] ^= 0x01
        with pytest.raises(StreamError) as caught:
            unseal(bytes(damaged))
        assert caught.value.code in {
            StreamError.TAMPERED,
            StreamError.TRUNCATED,
            StreamError.BAD_HEADER,
            StreamError.NOT_CONTAINER,
        }


def test_a_flipped_byte_in_the_data_is_reported_as_tampering():
    blob = bytearray(seal(b"abcdefghij" * 5))
    blob[-5] ^= 0x80
    with pytest.raises(StreamError) as caught:
        unseal(bytes(blob))
    assert caught.value.code == StreamError.TAMPERED
    assert "改ざん" in caught.value.message


def test_a_file_cut_anywhere_is_detected_also_at_a_chunk_boundary():
    blob = seal(b"abcdefghij" * 5)
    for length in range(len(blob)):
        with pytest.raises(StreamError) as caught:
            unseal(blob[:length])
        assert caught.value.code in {StreamError.TRUNCATED, StreamError.NOT_CONTAINER, StreamError.TAMPERED}


def test_a_cut_at_a_chunk_boundary_says_the_end_is_missing():
    blob = seal(b"a" * 40, chunk_size=16)
    header_length = len(MAGIC) + 2 + struct.unpack(">H", blob[8:10])[0]
    first_chunk_end = header_length + 4 + 16 + 16
    with pytest.raises(StreamError) as caught:
        unseal(blob[:first_chunk_end])
    assert caught.value.code == StreamError.TRUNCATED
    assert "途中で切れて" in caught.value.message


def test_chunks_cannot_be_reordered():
    blob = seal(b"a" * 16 + b"b" * 16 + b"c", chunk_size=16)
    header_length = len(MAGIC) + 2 + struct.unpack(">H", blob[8:10])[0]
    size = 4 + 16 + 16
    first, second = blob[header_length : header_length + size], blob[header_length + size : header_length + 2 * size]
    swapped = blob[:header_length] + second + first + blob[header_length + 2 * size :]
    with pytest.raises(StreamError) as caught:
        unseal(swapped)
    assert caught.value.code == StreamError.TAMPERED


def test_data_after_the_final_chunk_is_refused():
    with pytest.raises(StreamError) as caught:
        unseal(seal(b"hello") + b"more")
    assert caught.value.code == StreamError.TRAILING_DATA


def test_another_key_does_not_open_it():
    with pytest.raises(StreamError) as caught:
        unseal(seal(b"hello"), key=bytes(32))
    assert caught.value.code == StreamError.TAMPERED


def test_something_else_is_not_a_container():
    with pytest.raises(StreamError) as caught:
        unseal(b"PGDMP\x01\x0e\x00" + b"\x00" * 40)
    assert caught.value.code == StreamError.NOT_CONTAINER
