#!/usr/bin/perl
# The module's log variables on real nginx and redis-server: a log_format
# with all of them, one request of each kind, and each access log line
# checked; no token ever appears in the logs, only its id.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use Time::HiRes qw(sleep);
use BcTest;
use TokenRef qw(mint_token parse_token);

my $TPUB = 'tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5';
my $WALLET = "wpkh($TPUB/0/*)";

my $t = BcTest->new;
$t->start_redis;
my $size = 10_000;
$t->make_file('files/book.pdf', $size);
$t->make_file('files/other.pdf', 100);
$t->make_file('gifts/g.bin', 500);

# the watcher's key is not used here (no payment is settled): any x-only key
my $xonly = '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';

my $http = <<"CONF";
    log_format bitcache '\$status st=\$bitcache_status p=\$bitcache_product '
                        'id=\$bitcache_token_id inv=\$bitcache_invoice '
                        'left=\$bitcache_bytes_left r="\$request"';
    bitcache_redis %%REDIS%% timeout=500ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        access_log %%DIR%%/logs/bitcache.log bitcache;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;

        location /files/ {
            bitcache on;
            bitcache_price 12345;
            bitcache_wallet "$WALLET";
        }
        location /bitcache/ { bitcache_api; }
        location /plain/ { }
        location /gifts/ {
            bitcache on;
            bitcache_price 1000;
            bitcache_wallet "$WALLET";
            bitcache_free_first 2;
        }
    }
CONF
$t->start_nginx($http);

my $LOG = $t->dir . '/logs/bitcache.log';
my $seen = 0;

# the line the last request wrote (the log phase may end after the reply)
sub next_line {
    for (1 .. 100) {
        open my $fh, '<', $LOG or die "$LOG: $!";
        my @lines = <$fh>;
        close $fh;
        if (@lines > $seen) {
            $seen = @lines;
            chomp(my $l = $lines[-1]);
            return $l;
        }
        sleep 0.02;
    }
    return '';
}

# one request; its log line's fields
sub logged {
    my ($what, $r) = @_;
    my $line = next_line();
    my %f = $line =~ /(\w+)=("[^"]*"|\S+)/g;
    ($f{code}) = $line =~ /^(\d{3}) /;
    note "$what: $line";
    return \%f;
}

sub fetch {
    my ($path, $tok, $how) = @_;
    return $t->get($path) unless defined $tok;
    return $t->get("$path?bitcache_token=$tok") if ($how // 'query') eq 'query';
    return $t->get($path, Cookie => "bitcache_token=$tok");
}

my @tokens;
my $secret = $t->secret_bytes;

# no token
my $r = fetch('/files/book.pdf');
is($r->{status}, 402, 'no token: 402');
my $f = logged('no token', $r);
is($f->{st}, 'unpaid', 'no token: unpaid');
is($f->{p}, '/files/book.pdf', 'no token: the product');
is($f->{id}, '-', 'no token: no id');
is($f->{left}, '-', 'no token: nothing left known');
is($f->{inv}, '-', 'no token: no invoice');

# paid twice, then used up
my $tok = $t->grant('/files/book.pdf', '--uses', 2);
push @tokens, $tok;
my $id = parse_token($tok)->{id};
$r = fetch('/files/book.pdf', $tok);
is($r->{status}, 200, 'paid: 200');
$f = logged('paid', $r);
is($f->{st}, 'paid', 'paid');
is($f->{code}, 200, 'paid: 200 logged');
is($f->{id}, $id, 'paid: the token id');
is($f->{left}, $size, 'paid: one file\'s worth left of two');
$r = fetch('/files/book.pdf', $tok, 'cookie');
$f = logged('paid again', $r);
is($f->{st}, 'paid', 'paid again (cookie)');
is($f->{left}, 0, 'paid again: nothing left');

# a range draws only its bytes
my $tok4 = $t->grant('/files/book.pdf', '--uses', 1);
push @tokens, $tok4;
$r = $t->get("/files/book.pdf?bitcache_token=$tok4", Range => 'bytes=0-99');
is($r->{status}, 206, 'range: 206');
$f = logged('range', $r);
is($f->{left}, $size - 100, 'range: the allowance less the range');

$r = fetch('/files/book.pdf', $tok);
is($r->{status}, 402, 'used up: 402');
$f = logged('used up', $r);
is($f->{st}, 'used_up', 'used up');
is($f->{id}, $id, 'used up: the token id');
is($f->{left}, '-', 'used up: no draw');

# unlimited: nothing counted, nothing left to tell
my $tok5 = $t->grant('/files/book.pdf', '--uses', 0);
push @tokens, $tok5;
$f = logged('unlimited', fetch('/files/book.pdf', $tok5));
is($f->{st}, 'paid', 'unlimited: paid');
is($f->{left}, '-', 'unlimited: no allowance');

# expired: a genuine MAC, an expiry in the past
my $expired = mint_token($secret, "\x07" x 16, time - 60, 1, '/files/book.pdf');
push @tokens, $expired;
$r = fetch('/files/book.pdf', $expired);
is($r->{status}, 402, 'expired: 402');
$f = logged('expired', $r);
is($f->{st}, 'expired', 'expired');
is($f->{id}, unpack('H*', "\x07" x 16), 'expired: its id (its MAC verified)');

# revoked
my $tok2 = $t->grant('/files/book.pdf');
push @tokens, $tok2;
my ($rc) = $t->cli('revoke', '--redis', $t->redis_addr, $tok2);
is($rc, 0, 'revoke');
$f = logged('revoked', fetch('/files/book.pdf', $tok2));
is($f->{st}, 'revoked', 'revoked');
is($f->{id}, parse_token($tok2)->{id}, 'revoked: the token id');

# forged: another secret, malformed, another product, unknown to Redis
my $forged = mint_token('x' x 32, "\x09" x 16, time + 3600, 1, '/files/book.pdf');
my $malformed = 'AQ' . ('A' x 100);
my $other = $t->grant('/files/other.pdf');
my $unknown = mint_token($secret, "\x0a" x 16, time + 3600, 1, '/files/book.pdf');
push @tokens, $forged, $malformed, $other, $unknown;
for my $case ([forged => $forged], [malformed => $malformed],
              ['another product' => $other], [unknown => $unknown]) {
    my ($what, $bad) = @$case;
    $r = fetch('/files/book.pdf', $bad, 'cookie');
    is($r->{status}, 402, "$what: 402");
    $f = logged($what, $r);
    is($f->{st}, 'invalid', "$what: invalid");
    is($f->{left}, '-', "$what: nothing left known");
    is($f->{id}, $what eq 'another product' ? parse_token($other)->{id}
                 : $what eq 'unknown' ? unpack('H*', "\x0a" x 16) : '-',
       "$what: the id only of a token whose MAC verified");
}

# a location without bitcache: nothing decided
$t->make_file('plain/a.txt', 10);
$f = logged('plain', $t->get('/plain/a.txt'));
is($f->{st}, '-', 'plain location: empty status');
is($f->{p}, '-', 'plain location: no product');

# the API: an invoice created, then its status
$r = $t->get('/files/book.pdf', Accept => 'application/json');
logged('offer', $r);
my $offer = decode_json($r->{content})->{offer};
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
$r = $ua->request('POST', $t->url('/bitcache/invoices'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $offer }) });
is($r->{status}, 201, 'invoice created') or diag $r->{content};
my $inv = decode_json($r->{content})->{id};
$f = logged('invoice', $r);
is($f->{inv}, $inv, 'creation: the new invoice id');
is($f->{st}, '-', 'creation: no access decision');
$r = $t->get("/bitcache/invoices/$inv", Accept => 'application/json');
is($r->{status}, 200, 'status route');
$f = logged('status', $r);
is($f->{inv}, $inv, 'status: the invoice id');
$f = logged('other route', $t->get('/bitcache/nothing'));
is($f->{inv}, '-', 'another route: no invoice');

# a free copy of a giveaway: its product and its copy's token id
$r = $t->get('/gifts/g.bin', Accept => 'application/json');
logged('giveaway offer', $r);
my $goffer = decode_json($r->{content})->{offer};
$r = $ua->request('POST', $t->url('/bitcache/free'), {
    headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
    content => encode_json({ offer => $goffer }) });
is($r->{status}, 201, 'free copy: 201') or diag $r->{content};
my $ftok = decode_json($r->{content})->{token};
push @tokens, $ftok;
$f = logged('free', $r);
is($f->{st}, 'free', 'free copy: free');
is($f->{p}, '/gifts/g.bin', 'free copy: the product');
is($f->{id}, parse_token($ftok)->{id}, 'free copy: its token id');
is($f->{inv}, '-', 'free copy: no invoice');

# a sealed file's key released for a token of its product
my $dir = $t->dir;
$t->seal('files/book.pdf', "$dir/book.sealed", '/files/book.pdf',
         "http://127.0.0.1:$t->{http_port}/bitcache");
my $ktok = $t->grant('/files/book.pdf', '--uses', 1);
push @tokens, $ktok;
$r = $t->get("/bitcache/keys/files/book.pdf?bitcache_token=$ktok");
is($r->{status}, 200, 'key: 200') or diag $r->{content};
$f = logged('key', $r);
is($f->{st}, 'key', 'key released: key');
is($f->{p}, '/files/book.pdf', 'key: the product');
is($f->{id}, parse_token($ktok)->{id}, 'key: the token id');
is($f->{left}, '-', 'key: no file drawn');

# Redis down: a valid token gets 503
my $tok3 = $t->grant('/files/book.pdf');
push @tokens, $tok3;
$t->stop_redis('KILL');
$r = fetch('/files/book.pdf', $tok3);
is($r->{status}, 503, 'redis down: 503');
$f = logged('redis down', $r);
is($f->{st}, 'redis_error', 'redis down: redis_error');
is($f->{code}, 503, 'redis down: 503 logged');

# no token text anywhere in the logs
my $logs = do { local $/; open my $fh, '<', $LOG or die; <$fh> }
           . $t->access_log . $t->error_log;
for my $tk (@tokens) {
    ok(index($logs, $tk) < 0, 'the logs never carry the token ' . substr($tk, 0, 8) . '...');
}
unlike($logs, qr/bitcache_token=[A-Za-z0-9_-]{20}/, 'no token in any request line');
unlike($t->error_log, qr/\[(alert|emerg)\]/, 'no alert or emerg in error.log');

done_testing;
