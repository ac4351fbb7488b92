#!/usr/bin/perl
# One free copy per address (bitcache_free_per_address) counts an IPv6
# client by its /64, one subscriber's network, and an IPv4-mapped address
# as the IPv4 address (docs/creators.md); a copy counted but not given
# leaves the address free to try again. The client's address comes from
# nginx's realip module (X-Real-IP from 127.0.0.1), as behind a proxy.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my $file = $t->make_file('w/w.bin', 1_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Real-IP;
        location /w/ { bitcache on; bitcache_free_first 20; bitcache_free_per_address 1h; }
LOC

my $r = $t->get('/w/w.bin', Accept => 'application/json');
my $offer = eval { decode_json($r->{content})->{offer} };
ok($offer, 'the 402 carries an offer') or BAIL_OUT('no offer');

sub claim_from {
    my ($addr) = @_;
    my $ua = HTTP::Tiny->new(timeout => 20, max_redirect => 0, keep_alive => 0);
    my $r = $ua->request('POST', $t->url('/bitcache/free'), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json',
                     'X-Real-IP' => $addr },
        content => encode_json({ offer => $offer }) });
    return $r->{status};
}

is(claim_from('2001:db8:1:2::1'), 201, '2001:db8:1:2::1: a copy');
is(claim_from('2001:db8:1:2::1'), 429, 'the same address again: 429');
is(claim_from('2001:db8:1:2:ffff:ffff:ffff:ffff'), 429, 'another address of the same /64: 429');
is(claim_from('2001:db8:1:3::1'), 201, 'the next /64: a copy');
is(claim_from('192.0.2.7'), 201, '192.0.2.7: a copy');
is(claim_from('::ffff:192.0.2.7'), 429, 'the same address IPv4-mapped: 429');
is(claim_from('::ffff:192.0.2.8'), 201, 'another IPv4-mapped address: a copy');
is($t->redis('GET', 'bitcache:free:/w/w.bin'), 4, 'four copies given');

my $keys = $t->redis('KEYS', 'bitcache:freeip:*');
is(scalar @$keys, 4, 'four addresses remembered');
# (a hash's hex may hold "192" or "db8" by chance: the whole key's form is
# what tells that no address is in it)
is(scalar(grep { m{^bitcache:freeip:/w/w\.bin:[0-9a-f]{32}$} } @$keys), 4,
   'by hashes, not the addresses');

# a copy counted but not given (its token record exists: the counter was
# set back) must not cost the address its window: it may try again
$t->redis('SET', 'bitcache:free:/w/w.bin', 3);
is(claim_from('2001:db8:9::1'), 503, 'the counter set back: copy 4 exists, 503');
# (its DEL goes to Redis with the round's other commands, as the 503 goes
# out: the client may read the answer first)
ok(BcTest::wait_until(sub { @{ $t->redis('KEYS', 'bitcache:freeip:*') } == 4 }, 5),
   '... and the address is not kept');
is(claim_from('2001:db8:9::1'), 201, 'the same address again: copy 5');
is($t->redis('GET', 'bitcache:free:/w/w.bin'), 5, 'five copies counted, four given before');

done_testing;
