#!/usr/bin/perl
# A Redis writer cannot roll a product's catalog record back: records carry
# a seq inside their MAC (version 2), nginx keeps the highest seq seen of
# each product in a shared memory zone (both workers, across a reload), and
# an older record, a withdrawn one's predecessor, a missing or forged record
# after a newer one was seen, or a version 1 record after a version 2 one,
# gets 503 + Retry-After and a warn line, never an offer at the old price
# nor the location's (possibly lower) price.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use JSON::PP qw(decode_json);
use MIME::Base64 qw(decode_base64url);
use BcTest;
use ProtocolRef qw(keys_of product_mac product2_mac product3_mac);

my $t = BcTest->new;
$t->start_redis;
$t->make_file('files/book.pdf', 4000);
$t->make_file('files/old.pdf', 4000);
my $S = $t->dir . '/secret';
my $R = $t->redis_addr;
my $k = keys_of($t->secret_bytes);
my $KEY = 'bitcache:prod:/files/book.pdf';

# --- the vectors of t/vectors/selling.txt, recomputed in Perl, as documented ---
{
    open my $fh, '<', 't/vectors/selling.txt' or die;
    my %v = map { /^([^#=]+)=(.*)$/ ? ($1 => $2) : () } <$fh>;
    my $vk = keys_of(pack 'H*', $v{secret});
    is(unpack('H*', product2_mac($vk, $v{product}, $v{product_seq}, $v{price}, $v{wallet}, $v{title})),
       $v{product2_mac}, 'vector product2_mac (ProtocolRef)');
    is(unpack('H*', product2_mac($vk, $v{product}, $v{product_seq} + 1, 0, '', '')),
       $v{product2_withdrawn_mac}, 'vector product2_withdrawn_mac');
    is(unpack('H*', product_mac($vk, $v{product}, $v{price}, $v{wallet}, $v{title})),
       $v{product_mac}, 'vector product_mac (version 1)');
    is(unpack('H*', product3_mac($vk, $v{product}, $v{product_seq}, $v{price}, $v{suggested}, $v{free_total},
                                 $v{free_window}, $v{wallet}, $v{title})),
       $v{product3_mac}, 'vector product3_mac (version 3: suggested price and giveaway)');
    open my $doc, '<', 'docs/protocol.md' or die;
    my $text = do { local $/; <$doc> };
    like($text, qr/\Q$_=$v{$_}\E/, "docs/protocol.md gives $_") for qw(product_mac product2_mac product2_withdrawn_mac product3_mac);
}

# reuseport: the kernel spreads connections over both workers
my $http = $t->selling_http('location /files/ { bitcache on; }', price => 12345);
$http =~ s/(listen 127\.0\.0\.1:%%PORT%%)/$1 reuseport/ or die;

# --- bitcache_catalog_zone: checked by nginx -t ------------------------------
for my $case (['cat:2m', 0, qr/successful/],
              ['cat', 1, qr/bitcache_catalog_zone: "cat" is not name:size in .*:\d+/],
              [':1m', 1, qr/is not name:size/],
              ['cat:lots', 1, qr/bitcache_catalog_zone: invalid size "lots"/],
              ['cat:8k', 1, qr/bitcache_catalog_zone "cat" is too small \(at least \d+ bytes\)/]) {
    my ($v, $fails, $re) = @$case;
    my ($rc, $out) = $t->nginx_test("bitcache_catalog_zone $v;\n$http");
    is(!!$rc, !!$fails, "bitcache_catalog_zone $v: " . ($fails ? 'refused' : 'accepted'));
    like($out, $re, '  says so');
}
my ($crc, $cout) = $t->nginx_test("bitcache_catalog_zone a:1m;\nbitcache_catalog_zone b:1m;\n$http");
like($cout, qr/"bitcache_catalog_zone" directive is duplicate/, 'a second bitcache_catalog_zone: duplicate');
($crc, $cout) = $t->nginx_test($http =~ s/(server \{)/$1 bitcache_catalog_zone c:1m;/r);
like($cout, qr/"bitcache_catalog_zone" directive is not allowed here/, 'not in a server block');

$t->start_nginx($http, workers => 2);

sub set_price {
    my ($product, @args) = @_;
    my ($rc, $out, $err) = $t->cli('product', 'set', $product, '--secret', $S, '--redis', $R, @args);
    is($rc, 0, "product set $product @args") or diag $err;
    my ($seq) = $out =~ /seq (\d+)$/m;
    return $seq;
}

sub record { my $r = $t->redis('HGETALL', $_[0] // $KEY); return { @$r } }

sub write_back {
    my ($h, $key) = @_;
    $t->redis('DEL', $key // $KEY);
    $t->redis('HSET', $key // $KEY, %$h);
}

# the page as JSON: (status, the price the page shows, the price the
# signed offer carries, the response)
sub offer_of {
    my ($path) = @_;
    my $r = $t->get($path // '/files/book.pdf', Accept => 'application/json');
    my $j = eval { decode_json($r->{content}) } || {};
    my $offer_price;
    if ($j->{offer}) {
        (undef, undef, $offer_price) = unpack('C Q> Q>', decode_base64url($j->{offer}));
    }
    return ($r->{status}, $j->{price_sats}, $offer_price, $r);
}

sub warns { my @l = $t->error_log =~ /^.*\[warn\].*rolled back.*$/mg; return @l }

sub refused {
    my ($name, $path) = @_;
    my ($st, $shown, $offered, $r) = offer_of($path);
    is($st, 503, "$name: 503");
    ok(!defined $shown && !defined $offered, "$name: no price, no offer")
        or diag $r->{content};
    is($r->{headers}{'retry-after'}, 2, "$name: Retry-After");
    my $html = $t->get($path // '/files/book.pdf');
    is($html->{status}, 503, "$name: the HTML page too");
    unlike($html->{content}, qr/offer|bitcoin:/i, "$name: with no offer nor payment link");
}

# --- the directives, then the creator's prices A and B ----------------------
my ($st, $shown, $offered) = offer_of();
is_deeply([$st, $shown, $offered], [402, 12345, 12345], 'no record: the location\'s price');

my $seq_a = set_price('/files/book.pdf', '--price', '50000');
my $A = record();
is($A->{seq}, $seq_a, 'record A has its seq');
($st, $shown, $offered) = offer_of();
is_deeply([$st, $shown, $offered], [402, 50000, 50000], 'record A: price A');

my $seq_b = set_price('/files/book.pdf', '--price', '90000', '--title', 'Dearer');
my $B = record();
cmp_ok($seq_b, '>', $seq_a, 'B has a higher seq');
($st, $shown, $offered) = offer_of();
is_deeply([$st, $shown, $offered], [402, 90000, 90000], 'record B: price B (one worker saw it)');
my ($w1) = ($t->error_log =~ /.*\[info\] (\d+)#\d+: .*402 for "\/files\/book\.pdf"/s);
ok($w1, "served by worker $w1");

# --- A written back --------------------------------------------------------
write_back($A);
refused('A written back');
like((warns())[-1], qr/catalog record of "\/files\/book\.pdf" rolled back: seq $seq_a after seq $seq_b was seen/,
     'logged at warn with both seqs');

# the other worker, which never read B itself, refuses A too
my (%pids, $all503);
$all503 = 1;
for (1 .. 60) {
    my ($s) = offer_of();
    $all503 = 0 if $s != 503;
    %pids = map { /\[warn\] (\d+)#/ ? ($1 => 1) : () } warns();
    last if grep { $_ != $w1 } keys %pids;
}
ok($all503, 'every request refused');
ok((grep { $_ != $w1 } keys %pids), 'including by the worker that never saw B (the mark is shared)')
    or diag "workers that refused: @{[ keys %pids ]}, B seen by $w1";

# --- a reload keeps the zone ----------------------------------------------
my $master = $t->{nginx_pid};
my @old = split ' ', `ps -o pid= --ppid $master`;
kill 'HUP', $master;
my $until = time + 10;
my @new;
while (time < $until) {
    @new = grep { my $p = $_; !grep { $_ == $p } @old } split ' ', `ps -o pid= --ppid $master`;
    my @still = grep { kill 0, $_ } @old;
    last if @new >= 2 && !@still;
    sleep 0.1;
}
cmp_ok(scalar @new, '>=', 2, 'reloaded: new workers');
refused('after the reload, A');
my ($pid) = (warns())[-1] =~ /\[warn\] (\d+)#/;
ok((grep { $_ == $pid } @new), 'refused by a new worker');

# B again (the same seq) sells
write_back($B);
($st, $shown, $offered) = offer_of();
is_deeply([$st, $shown, $offered], [402, 90000, 90000], 'B written back: sold at B');

# --- product rm: a signed withdrawal, which cannot be undone either --------
my ($rc, $out, $err) = $t->cli('product', 'rm', '/files/book.pdf', '--secret', $S, '--redis', $R);
is($rc, 0, 'product rm') or diag $err;
my ($seq_rm) = $out =~ /seq (\d+)/;
cmp_ok($seq_rm, '>', $seq_b, 'the withdrawal has a higher seq');
is(record()->{price}, 0, 'a withdrawal record, not a DEL');
($st, $shown, $offered) = offer_of();
is_deeply([$st, $shown, $offered], [402, 12345, 12345], 'withdrawn: the location\'s price again');

write_back($B);
refused('B written back over the withdrawal');
$t->redis('DEL', $KEY);
refused('the record deleted');
like((warns())[-1], qr/rolled back: no record after seq $seq_rm was seen/, '  logged: no record');

# --- another product's valid record copied onto this key --------------------
set_price('/files/cheap.pdf', '--price', '1');
write_back(record('bitcache:prod:/files/cheap.pdf'));
refused('another product\'s record');
like((warns())[-1], qr/rolled back: its MAC does not verify/, '  logged: the MAC');

# a forged record with a huge seq
write_back({ %$B, seq => '18446744073709551615' });
refused('B with a forged seq');

# the creator sets a price again: it sells, and the mark follows
my $seq_c = set_price('/files/book.pdf', '--price', '70000');
cmp_ok($seq_c, '>', $seq_rm, 'the next record is numbered past the withdrawal');
($st, $shown, $offered) = offer_of();
is_deeply([$st, $shown, $offered], [402, 70000, 70000], 'a new record sells');
my $C = record();
is($C->{v}, 3, 'product set writes version 3');

# version 3's terms are in the MAC: a writer who adds a giveaway or a
# suggested price to the current record makes it a forgery
for my $f ([free => 1000000], [suggested => 1_000_000], [free_window => 60]) {
    write_back({ %$C, @$f });
    refused("$f->[0] set to $f->[1] in Redis", undef);
}
write_back($C);
($st, $shown, $offered) = offer_of();
is_deeply([$st, $shown, $offered], [402, 70000, 70000], 'the record written back as it was sells again');

# --- version 1 records: the upgrade path ------------------------------------
my $v1 = { price => 3000, wallet => '', title => 'Old',
           mac => unpack('H*', product_mac($k, '/files/old.pdf', 3000, '', 'Old')) };
write_back($v1, 'bitcache:prod:/files/old.pdf');
($st, $shown, $offered) = offer_of('/files/old.pdf');
is_deeply([$st, $shown, $offered], [402, 3000, 3000], 'a version 1 record still sells while no v2 was seen');
set_price('/files/old.pdf', '--price', '4000');
is(record('bitcache:prod:/files/old.pdf')->{seq} > 0, 1, 'product set re-signs it with a seq');
is(record('bitcache:prod:/files/old.pdf')->{v}, 3, '  as version 3');
($st, $shown, $offered) = offer_of('/files/old.pdf');
is_deeply([$st, $shown, $offered], [402, 4000, 4000], 'v2: its price');
write_back($v1, 'bitcache:prod:/files/old.pdf');
refused('the version 1 record written back', '/files/old.pdf');
like((warns())[-1], qr/rolled back: a version 1 record \(no seq\)/, '  logged as such');

# --- what remains: a restart forgets the marks (docs/security.md) ------------
write_back($A);
$t->stop_nginx;
$t->start_nginx("bitcache_catalog_zone catalog:2m;\n$http", workers => 2);
($st, $shown) = offer_of();
is_deeply([$st, $shown], [402, 50000], 'after a restart an older record is believed again (documented)');
write_back($C);
offer_of();
write_back($A);
($st) = offer_of();
is($st, 503, '  until a newer one is seen (in a zone named by bitcache_catalog_zone)');

# --- a full zone forgets the least recently read marks, and keeps working ------
$t->stop_nginx;
$t->start_nginx("bitcache_catalog_zone tiny:32k;\n$http", workers => 1);
my $N = 400;
my $sign = sub {
    my ($i, $seq, $price) = @_;
    my $p = "/files/p$i";
    $t->redis('HSET', "bitcache:prod:$p", price => $price, wallet => '', title => '', seq => $seq,
              mac => unpack('H*', product2_mac($k, $p, $seq, $price, '', '')));
};
$sign->($_, 10, 500) for 1 .. $N;
my $sold = 0;
for my $i (1 .. $N) {
    my ($s, $p) = offer_of("/files/p$i");
    $sold++ if $s == 402 && $p == 500;
}
is($sold, $N, "$N products read into a 32k zone: all sold");
$sign->($_, 5, 100) for 1, $N;
($st) = offer_of("/files/p$N");
is($st, 503, 'the most recently read product keeps its mark');
($st, $shown) = offer_of('/files/p1');
is_deeply([$st, $shown], [402, 100], 'the least recently read one was forgotten (documented)');
unlike($t->error_log, qr/no room in bitcache_catalog_zone/, 'eviction made room each time');

$t->stop_nginx;
$t->check_log_clean;
done_testing;
