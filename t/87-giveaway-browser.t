#!/usr/bin/perl
# A limited giveaway in headless Chromium (t/node/page.js): the 402 page
# shows "5 of 5 free copies left" and "Get a free copy"; a click claims a
# copy and downloads the file, with JavaScript (the page claims in place,
# then loads the file with the cookie) and without (the form's POST, 303
# to the file); 50 parallel claims take the counter to zero, exactly the
# copies left; then the page shows only the ways to pay. With one copy per
# address, a second claim from the same browser says so. Screenshots go
# to t/artifacts/87-*.png.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use BcTest;

my $root = $BcTest::ROOT;
my $pagejs = "$root/t/node/page.js";
my $art = "$root/t/artifacts";

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;
plan skip_all => 'chromium missing (make deps)' unless -x '/usr/bin/chromium';
plan skip_all => 'playwright-core missing (make deps)'
    unless -d "$root/t/node/node_modules/playwright-core";
mkdir $art;

my $t = BcTest->new;
$t->start_redis;
my %file = (g => $t->make_file('g/night.bin', 50_000), w => $t->make_file('w/day.bin', 20_000));
$t->start_nginx($t->selling_http(<<'LOC'));
        location /g/ { bitcache on; bitcache_free_first 5; }
        location /w/ { bitcache on; bitcache_free_first 10; bitcache_free_per_address 1d; }
LOC

sub browse {
    my ($path, @opt) = @_;
    open my $p, '-|', 'node', $pagejs, $t->url($path), '--timeout', 30000, @opt or die;
    local $/;
    my $json = <$p>;
    close $p;
    my $r = eval { decode_json($json) } || { ok => 0, error => "no JSON: $json" };
    diag("page.js: $r->{error}") unless $r->{ok};
    return $r;
}
sub clean {
    my ($r, $name) = @_;
    is_deeply($r->{external}, [], "$name: nothing loaded from another host");
    # the page itself answers 402: Chromium logs that status, nothing else
    is_deeply([grep { !/favicon|status of 402/ } @{ $r->{console} }], [], "$name: no console errors (CSP)");
    is_deeply($r->{page_errors}, [], "$name: no script errors");
}
sub slurp { my $f = shift; return -f $f ? do { local (@ARGV, $/) = $f; <> } : '' }
sub given { $t->redis('GET', 'bitcache:free:/g/night.bin') // 0 }

my $dl = $t->dir . '/downloads';
mkdir $dl;

# 1. with JavaScript: the page, a click, the file
my $r = browse('/g/night.bin', '--downloads', $dl, '--summary',
               '--screenshot', "$art/87-giveaway-402.png", '--click', '#free', '--wait-ms', 1500);
my $page = $r->{steps}[0]{summary} || {};
like($page->{body_text} // '', qr/5 of 5 free copies left/, 'the page: "5 of 5 free copies left"');
like($page->{body_text} // '', qr/Get a free copy/, '... a "Get a free copy" button');
ok($page->{fields}{pay} && $page->{fields}{pay}{visible}, '... and the pay button');
like($page->{body_text} // '', qr/free copies left\s+Get a free copy\s+or\s/,
     '... the free copy above the ways to pay');
my ($got) = @{ $r->{downloads} || [] };
ok($got && -f $got->{path}, 'with JavaScript: the click downloaded a file') or diag explain $r;
ok($got && slurp($got->{path}) eq $file{g}, '... the exact bytes of the file');
my ($c) = grep { $_->{name} eq 'bitcache_token' } @{ $r->{cookies} || [] };
ok($c && $c->{httpOnly}, '... its token in an HttpOnly cookie');
is(given(), 1, '... one copy given');
ok(!(grep { m{^GET .*bitcache_token=} } @{ $r->{requests} }), '... the token never in a URL');
clean($r, 'with JavaScript');

# 2. without JavaScript: the form's POST, 303 to the file
$r = browse('/g/night.bin', '--no-js', '--downloads', $dl, '--summary',
            '--screenshot', "$art/87-giveaway-402-nojs.png", '--click', '#free', '--wait-ms', 1500);
$page = $r->{steps}[0]{summary} || {};
like($page->{body_text} // '', qr/4 of 5 free copies left/, 'without JavaScript: "4 of 5 free copies left"');
($got) = @{ $r->{downloads} || [] };
ok($got && slurp($got->{path}) eq $file{g}, '... the click downloaded the exact bytes') or diag explain $r;
is(given(), 2, '... two copies given');
ok((grep { $_->{status} == 303 } @{ $r->{responses} }), '... through the 303 of POST <api>/free');
clean($r, 'without JavaScript');

# 3. the counter to zero: 50 parallel claims, exactly the 3 left
my $offer = $t->offer_of('/g/night.bin');
my $out = $t->dir . '/claims';
mkdir $out;
my @kids;
for my $i (1 .. 50) {
    my $pid = fork // die;
    if (!$pid) {
        my $ua = HTTP::Tiny->new(timeout => 20, max_redirect => 0, keep_alive => 0);
        my $x = $ua->request('POST', $t->url('/bitcache/free'), {
            headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
            content => encode_json({ offer => $offer }) });
        open my $fh, '>', "$out/$i" or POSIX::_exit(1);
        print $fh $x->{status};
        close $fh;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
my %st;
$st{ slurp("$out/$_") }++ for 1 .. 50;
is($st{201}, 3, '50 parallel claims: exactly the 3 copies left');
is($st{410}, 47, '... the other 47: no free copies left');
is(given(), 5, 'five copies in all');

# 4. none left: only the ways to pay, with and without JavaScript
for my $js (1, 0) {
    my $how = $js ? 'with JavaScript' : 'without JavaScript';
    $r = browse('/g/night.bin', ($js ? () : '--no-js'),
                '--screenshot', "$art/87-giveaway-none" . ($js ? '' : '-nojs') . '.png');
    unlike($r->{body_text} // '', qr/free cop/i, "none left ($how): no free copies on the page");
    ok($r->{fields}{pay} && $r->{fields}{pay}{visible}, "... the pay button");
    clean($r, "none left ($how)");
}

# 5. one copy per address: the second claim from the same browser is told
$r = browse('/w/day.bin', '--downloads', $dl, '--click', '#free', '--wait-ms', 1500);
($got) = @{ $r->{downloads} || [] };
ok($got && slurp($got->{path}) eq $file{w}, 'per address: the first copy downloads') or diag explain $r;
$r = browse('/w/day.bin', '--click', '#free', '--wait-text', 'One free copy per visitor',
            '--screenshot', "$art/87-giveaway-per-address.png");
like($r->{body_text} // '', qr/One free copy per visitor: you had yours/, '... the second claim: "One free copy per visitor"');
is($t->redis('GET', 'bitcache:free:/w/day.bin'), 1, '... and it cost no copy');
is_deeply($r->{page_errors}, [], '... no script errors');

$t->check_log_clean;
done_testing;
