#!/usr/bin/perl
# Pay what you want and tips in headless Chromium (docs/creators.md), with
# and without JavaScript: the 402 page's presets and field; an amount above
# the minimum and a tip become invoices of that amount (the invoice page
# asks for it and thanks for the tip), paid and downloaded; below the
# minimum is refused, by the field's own check and, with the check off, by
# the server (a page that says the least, no invoice). Screenshots in
# t/artifacts/87-pwyw-*.png.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use BcTest;

my $root = $BcTest::ROOT;
my $pagejs = "$root/t/node/page.js";
my $art = "$root/t/artifacts";

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/pay_invoice" && -x $BcTest::CLI;
plan skip_all => 'chromium missing (make deps)' unless -x '/usr/bin/chromium';
plan skip_all => 'playwright-core missing (make deps)'
    unless -d "$root/t/node/node_modules/playwright-core";
mkdir $art;

my $t = BcTest->new;
$t->start_redis;
my $film = $t->make_file('pwyw/film.bin', 50_000);
my $song = $t->make_file('fixed/song.bin', 20_000);
$t->start_nginx($t->selling_http(<<'LOC'));
        location /pwyw/ { bitcache on; bitcache_price 5000; bitcache_suggested_price 12000; }
        location /fixed/ { bitcache on; bitcache_price 5000; }
LOC

sub ids { map { /inv:([0-9a-f]{32})$/ ? $1 : () } @{ $t->redis('KEYS', 'bitcache:inv:*') } }

# runs page.js on $path; returns its JSON summary
sub page {
    my ($path, @opt) = @_;
    open my $p, '-|', 'node', $pagejs, $t->url($path), '--timeout', 20000, @opt or die;
    my $json = do { local $/; <$p> };
    close $p;
    my $r = eval { decode_json($json) } || { ok => 0, error => "no JSON: $json" };
    diag("page.js: $r->{error}") unless $r->{ok};
    return $r;
}

sub clean {
    my ($r, $name) = @_;
    ok($r->{ok}, "$name: page.js ran");
    is_deeply($r->{external}, [], "$name: no request for another host");
    my @console = grep { !/Failed to load resource: .* status of 40[02] / } @{ $r->{console} };
    is_deeply(\@console, [], "$name: no console error (CSP)") or diag(join "\n", @console);
    is_deeply($r->{page_errors}, [], "$name: no script error");
    ok(!$r->{horizontal_overflow}, "$name: no horizontal scrolling");
}

# the one invoice made since @before, its record
sub made {
    my ($name, @before) = @_;
    my %old = map { $_ => 1 } @before;
    my @new = grep { !$old{$_} } ids();
    is(scalar @new, 1, "$name: one invoice made");
    return ($new[0], $new[0] ? $t->invoice($new[0]) : {});
}

# the buyer's browser's claim is an HttpOnly cookie: pay as the watcher
# would, then read the status with the same claim to get the download
sub pay_and_download {
    my ($name, $id, $amount, $cookies, $want) = @_;
    my ($claim) = map { $_->{value} } grep { $_->{name} eq 'bitcache_claim' } @{ $cookies || [] };
    ok($claim, "$name: the browser holds the invoice's claim");
    $t->pay_invoice($id, $amount, 6);
    my $s = $t->invoice_status($id, $claim // '');
    ok($s->{token}, "$name: paid the amount chosen: a token");
    my $path = $s->{download_url} // '';
    $path =~ s{^http://127\.0\.0\.1:\d+}{};
    my $dl = $t->get($path);
    is($dl->{status}, 200, "$name: the download link");
    ok($dl->{content} eq $want, "$name: the very file");
}

# ---- with JavaScript: pay what you want above the minimum ------------------------------
{
    my @before = ids();
    my $r = page('/pwyw/film.bin', '--summary', '--screenshot', "$art/87-pwyw-402.png",
                 '--fill', '#amount-custom=20000', '--summary',
                 '--screenshot', "$art/87-pwyw-custom.png",
                 '--click', '#pay', '--wait', '#qr svg', '--screenshot', "$art/87-pwyw-invoice.png");
    clean($r, 'JS pay what you want');
    my ($offer, $typed) = map { $_->{summary} } grep { $_->{summary} } @{ $r->{steps} };
    is($offer->{fields}{'pwyw-note'}{text}, 'Pay what you want (at least 5000 sats)', 'JS: the note');
    ok($offer->{fields}{'amount-suggested'}{checked}, 'JS: the suggested price preselected');
    is($offer->{fields}{'pay-total'}{text}, 'You pay 12000 sats', 'JS: the page says what is paid');
    ok(!$offer->{fields}{'tip-box'}, 'JS: no tip box');
    ok($typed->{fields}{'amount-other'}{checked}, 'JS: typing a number chooses "Other"');
    is($typed->{fields}{'pay-total'}{text}, 'You pay 20000 sats', 'JS: ... and follows the field');
    my ($id, $rec) = made('JS above the minimum', @before);
    is_deeply([@$rec{qw(amount list)}], [20000, 5000], 'JS: the invoice of 20000, list 5000');
    is($r->{price_sats}, '20000', 'JS: the invoice page asks for 20000 sats');
    is($r->{fields}{'tip-line'}{text}, '5000 sats and 15000 sats more, chosen by you: thank you!',
       'JS: and thanks for what is above the price');
    like($r->{bip21} // '', qr/amount=0\.0002(&|$)/, 'JS: the BIP21 amount is 0.0002 BTC');
    pay_and_download('JS above the minimum', $id, 20000, $r->{cookies}, $film);
}

# ---- dark, on a desktop: the choices stay readable ---------------------------------------
{
    my $r = page('/pwyw/film.bin', '--dark', '--viewport', '1280x900',
                 '--screenshot', "$art/87-pwyw-402-dark-desktop.png");
    clean($r, 'dark desktop');
    ok($r->{fields}{'amount-custom'}{visible} && $r->{fields}{'amount-double'}{visible},
       'dark desktop: the presets and the field');
}

# ---- with JavaScript: below the minimum --------------------------------------------------
{
    my @before = ids();
    my $r = page('/pwyw/film.bin', '--fill', '#amount-custom=4000', '--click', '#pay',
                 '--screenshot', "$art/87-pwyw-below.png");
    clean($r, 'JS below');
    is($r->{url}, $t->url('/pwyw/film.bin'), 'JS below: the browser stays on the page');
    is($r->{fields}{'amount-custom'}{valid}, JSON::PP::false, 'JS below: the field says it is below its minimum');
    is(scalar(ids()), scalar(@before), 'JS below: no invoice');
}

# ---- without JavaScript: below the minimum, the server refuses -----------------------------
{
    my @before = ids();
    my $r = page('/pwyw/film.bin', '--no-js', '--click', '#amount-other', '--fill', '#amount-custom=4000',
                 '--no-validate', '--click', '#pay', '--screenshot', "$art/87-pwyw-below-nojs.png");
    ok($r->{ok}, 'no JS below: page.js ran');
    is($r->{url}, $t->url('/bitcache/invoices'), 'no JS below: the form was posted');
    is($r->{fields}{'amount-error'}{text}, '/pwyw/film.bin: the amount must be at least 5000 sats.',
       'no JS below: the server\'s page says the least');
    is(scalar(ids()), scalar(@before), 'no JS below: no invoice');
}

# ---- without JavaScript: a preset above the minimum ---------------------------------------
{
    my @before = ids();
    my $r = page('/pwyw/film.bin', '--no-js', '--summary', '--click', '#amount-double', '--click', '#pay',
                 '--wait', '#qr svg', '--screenshot', "$art/87-pwyw-invoice-nojs.png");
    ok($r->{ok}, 'no JS above: page.js ran');
    my ($offer) = map { $_->{summary} } grep { $_->{summary} } @{ $r->{steps} };
    ok($offer->{fields}{'amount-suggested'}{checked}, 'no JS: the suggested price preselected');
    ok(!$offer->{fields}{'pay-total'}{visible}, 'no JS: no total line (it needs JavaScript)');
    my ($id, $rec) = made('no JS above the minimum', @before);
    is_deeply([@$rec{qw(amount list)}], [24000, 5000], 'no JS: the invoice of twice the suggested price');
    is($r->{price_sats}, '24000', 'no JS: the invoice page asks for it');
    is($r->{meta_refresh}, '10', 'no JS: the invoice page refreshes itself');
    pay_and_download('no JS above the minimum', $id, 24000, $r->{cookies}, $film);
}

# ---- a tip, with and without JavaScript ----------------------------------------------------
{
    my @before = ids();
    my $r = page('/fixed/song.bin', '--summary', '--click', '#tip-25', '--summary',
                 '--screenshot', "$art/87-pwyw-tip.png", '--click', '#pay', '--wait', '#qr svg',
                 '--screenshot', "$art/87-pwyw-tip-invoice.png");
    clean($r, 'JS tip');
    my ($offer, $chosen) = map { $_->{summary} } grep { $_->{summary} } @{ $r->{steps} };
    is($offer->{fields}{'tip-note'}{text}, 'Add a tip', 'JS tip: "Add a tip"');
    ok($offer->{fields}{'tip-none'}{checked}, 'JS tip: none preselected');
    is($offer->{fields}{'pay-total'}{text}, 'You pay 5000 sats', 'JS tip: the price');
    is($chosen->{fields}{'pay-total'}{text}, 'You pay 6250 sats', 'JS tip: 25 % more');
    my ($id, $rec) = made('JS tip', @before);
    is_deeply([@$rec{qw(amount list)}], [6250, 5000], 'JS tip: the invoice of price and tip');
    is($r->{fields}{'tip-line'}{text}, '5000 sats and 1250 sats more, chosen by you: thank you!', 'JS tip: thanked');
    pay_and_download('JS tip', $id, 6250, $r->{cookies}, $song);

    @before = ids();
    $r = page('/fixed/song.bin', '--no-js', '--click', '#tip-other', '--fill', '#tip-custom=777',
              '--click', '#pay', '--wait', '#qr svg', '--screenshot', "$art/87-pwyw-tip-nojs.png");
    ok($r->{ok}, 'no JS tip: page.js ran');
    ($id, $rec) = made('no JS tip', @before);
    is_deeply([@$rec{qw(amount list)}], [5777, 5000], 'no JS tip: a typed tip');
    is($r->{price_sats}, '5777', 'no JS tip: the invoice page asks for it');

    @before = ids();
    $r = page('/fixed/song.bin', '--no-js', '--click', '#pay', '--wait', '#qr svg');
    ($id, $rec) = made('no tip', @before);
    is_deeply([@$rec{qw(amount list)}], [5000, 5000], 'no tip: the price');
    ok(!$r->{fields}{'tip-line'}, 'no tip: no thanks line');
}

$t->check_log_clean;
done_testing();
