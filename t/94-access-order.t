#!/usr/bin/perl
# nginx's own access checks (allow/deny, auth_basic) decide before Bitcache
# sells, describes or gives away a file: the module's access handler runs
# last in the access phase. A client they refuse gets their answer (403,
# 401), never the payment page, an offer or a free copy; a client they let
# through meets the paywall as usual; with `satisfy any` a client they let
# through needs no token (that is what `satisfy any` says).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use MIME::Base64;
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my %data = map { $_ => $t->make_file("$_/a.bin", 3_000) } qw(deny allow basic any);
# user "buyer", password "pw" (crypt-style {PLAIN} is accepted by nginx)
$t->write_file('htpasswd', "buyer:{PLAIN}pw\n");
$t->start_nginx($t->selling_http(<<'LOC'));
        location /deny/  { deny all; bitcache on; bitcache_free_first 2; }
        location /allow/ { allow 127.0.0.1; deny all; bitcache on; bitcache_free_first 2; }
        location /basic/ { auth_basic "members"; auth_basic_user_file %%DIR%%/htpasswd;
                           bitcache on; bitcache_free_first 2; }
        location /any/   { satisfy any; allow 192.0.2.1; deny all;
                           auth_basic "members"; auth_basic_user_file %%DIR%%/htpasswd;
                           bitcache on; }
LOC
my $auth = 'Basic ' . encode_base64('buyer:pw', '');
my $json = 'application/json';

# refused by nginx's checks: their answer, nothing of the sale
my $r = $t->get('/deny/a.bin', Accept => $json);
is($r->{status}, 403, 'deny all: 403');
unlike($r->{content}, qr/"offer"|Pay with bitcoin/, '... no offer, no payment page');
is($t->get('/bitcache/products/deny/a.bin')->{status}, 403, '... not described');
$r = $t->get('/basic/a.bin', Accept => $json);
is($r->{status}, 401, 'auth_basic without a password: 401');
unlike($r->{content}, qr/"offer"/, '... no offer');
is($t->get('/bitcache/products/basic/a.bin')->{status}, 401, '... not described');
is($t->redis('GET', 'bitcache:free:/deny/a.bin'), undef, 'no giveaway counted for them');

# let through: the paywall as usual
$r = $t->get('/allow/a.bin', Accept => $json);
is($r->{status}, 402, 'allow 127.0.0.1: the 402');
my $j = eval { decode_json($r->{content}) } || {};
ok($j->{offer} && $j->{free_total} == 2, '... with its offer and giveaway');
is($t->get('/bitcache/products/allow/a.bin')->{status}, 200, '... described');
$r = $t->get('/basic/a.bin', Accept => $json, Authorization => $auth);
is($r->{status}, 402, 'auth_basic with the password: the 402');
my $tok = $t->grant('/basic/a.bin');
$r = $t->get("/basic/a.bin?bitcache_token=$tok", Authorization => $auth);
is($r->{status}, 200, '... and with a token, the file');
is($r->{content}, $data{basic}, '... its bytes');
is($t->get("/basic/a.bin?bitcache_token=$tok")->{status}, 401,
   'a token without the password: 401 (nginx decides first)');

# satisfy any: nginx's checks refuse, so the token decides
$r = $t->get('/any/a.bin', Accept => $json);
is($r->{status}, 402, 'satisfy any, refused by allow/deny and auth_basic: the 402');
$tok = $t->grant('/any/a.bin');
$r = $t->get("/any/a.bin?bitcache_token=$tok");
is($r->{status}, 200, '... a token: the file');
is($r->{content}, $data{any}, '... its bytes');
$r = $t->get('/any/a.bin', Authorization => $auth);
is($r->{status}, 200, 'satisfy any with the password: the file without a token (satisfy any)');

$t->check_log_clean;
done_testing;
