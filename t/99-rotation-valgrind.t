#!/usr/bin/perl
# bitcache_secret NEW OLD and bitcache_watcher_key NEW OLD under valgrind:
# nginx in one process (master_process off) under memcheck; tokens, an
# offer, an invoice, a paid invoice and a sealed key made under the old
# secret (and the old watcher key), then the same checks through the
# fallback, new ones and forged ones, and a giveaway's address marks under
# both secrets. No invalid read, write, free or use of
# uninitialised memory may be reported, and nginx stops cleanly (the
# second keys are freed with the configuration).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;

my $t = BcTest->new;
my $dir = $t->dir;
$t->start_redis;
$t->make_file('files/doc.bin', 20_000);
$t->make_file('gifts/g.bin', 1_000);
$t->{http_port} = BcTest::free_port();
my $api = $t->url('/bitcache');
my (undef, $old_pub) = $t->watcher_key;
my $new_sec = '11' x 32;
my $new_pub = `$BcTest::TOOLS/pay_invoice --pubkey $new_sec`;
chomp $new_pub;

# made before the rotation, under the old secret (by the CLI and the tools)
$t->write_file('html/films/s.bin', 'x' x 5000);
$t->seal('films/s.bin', "$dir/s.sealed", '/films/s.bin', $api);
my $tok_old = $t->grant('/files/doc.bin', '--uses', 0);
my $ktok_old = $t->grant('/films/s.bin', '--uses', 0);
# an offer and an invoice of nginx on the old secret alone
$t->start_nginx($t->selling_http('location /files/ { bitcache on; }'));
my $offer_old = decode_json($t->get('/files/doc.bin', Accept => 'application/json')->{content})->{offer};
my $inv_old = $t->new_invoice('/files/doc.bin');
$t->stop_nginx;
rename "$dir/secret", "$dir/secret.old" or die;
$t->write_file('secret', scalar `$BcTest::CLI secret`, 0600);
my $tok_new = $t->grant('/files/doc.bin', '--uses', 0);

my $http = <<"CONF";
    bitcache_redis %%REDIS%% timeout=500ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret %%DIR%%/secret.old;
        bitcache_network regtest;
        bitcache_watcher_key $new_pub $old_pub;
        bitcache_wallet "$BcTest::TEST_WALLET";
        bitcache_price 12345;
        location /files/ { bitcache on; }
        location /films/ { bitcache on; }
        location /gifts/ { bitcache on; bitcache_free_first 3; bitcache_free_per_address 1h; }
        location /bitcache/ { bitcache_api; }
    }
CONF
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf, prefix => $dir);

my $ua = HTTP::Tiny->new(timeout => 30, max_redirect => 0, keep_alive => 0);
sub post_offer {
    my ($offer) = @_;
    my $r = $ua->request('POST', $t->url('/bitcache/invoices'), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
        content => encode_json({ offer => $offer }) });
    return ($r->{status}, eval { decode_json($r->{content}) } || {});
}
sub status_of {
    my ($inv) = @_;
    my $r = $t->get("/bitcache/invoices/$inv->{id}", Accept => 'application/json',
                    'X-Bitcache-Claim' => $inv->{claim});
    return eval { decode_json($r->{content}) } || {};
}

is($t->get("/files/doc.bin?bitcache_token=$tok_old")->{status}, 200, 'an old token, through the fallback');
is($t->get("/files/doc.bin?bitcache_token=$tok_new")->{status}, 200, 'a new token');
is($t->get('/files/doc.bin?bitcache_token=AQ' . ('A' x 100))->{status}, 402, 'a forged token: both tried');
is($t->get("/bitcache/keys/films/s.bin?bitcache_token=$ktok_old")->{status}, 200,
   'a sealed key wrapped under the old secret');

my ($st, $inv) = post_offer($offer_old);
is($st, 400, 'the old secret\'s offer: no invoice (only the current secret\'s offers make one)');
$t->pay_invoice($inv_old->{id}, 12345, 1);
$inv_old->{claim} = $t->claim_of($inv_old->{id});
ok(status_of($inv_old)->{token}, 'the old secret\'s invoice, attested by the old key: a token');
my $offer = decode_json($t->get('/files/doc.bin', Accept => 'application/json')->{content})->{offer};
($st, $inv) = post_offer($offer);
$t->pay_invoice($inv->{id}, 12345, 1, key => $new_sec);
ok(status_of($inv)->{token}, 'attested by the new key: a token');
($st, $inv) = post_offer($offer);
$t->pay_invoice($inv->{id}, 12345, 1, key => '22' x 32);
is(status_of($inv)->{state}, 'unverified', 'a third key: unverified (both keys tried)');
($st) = post_offer("x$offer");
is($st, 400, 'a forged offer: both secrets tried');
my $goffer = decode_json($t->get('/gifts/g.bin', Accept => 'application/json')->{content})->{offer};
for my $want (201, 429) {
    my $r = $ua->request('POST', $t->url('/bitcache/free'), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
        content => encode_json({ offer => $goffer }) });
    is($r->{status}, $want, "a free copy, the address looked up under both secrets: $want");
}

$t->stop_nginx_valgrind;
$t->check_log_clean;
done_testing;
