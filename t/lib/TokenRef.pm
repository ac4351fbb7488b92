package TokenRef;
# An independent implementation of the v1 token format (docs/protocol.md)
# in Perl, used to cross-check the C code and to craft tokens in tests.
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url decode_base64url);
use Exporter 'import';
our @EXPORT_OK = qw(token_key mint_token parse_token);

sub token_key {
    my ($secret_bytes) = @_;
    return hmac_sha256('bitcache/v1/token', $secret_bytes);
}

# mint_token(secret_bytes, id_bytes(16), expires, uses, product) -> string
sub mint_token {
    my ($secret, $id, $expires, $uses, $product) = @_;
    my $body = pack('C a16 Q> N n', 1, $id, $expires, $uses, length $product) . $product;
    my $mac = hmac_sha256($body, token_key($secret));
    return encode_base64url($body . $mac);
}

sub parse_token {
    my ($s) = @_;
    my $raw = decode_base64url($s);
    my ($v, $id, $exp, $uses, $plen) = unpack('C a16 Q> N n', $raw);
    return { version => $v, id => unpack('H*', $id), expires => $exp,
             uses => $uses, product => substr($raw, 31, $plen),
             mac => unpack('H*', substr($raw, 31 + $plen)) };
}

1;
