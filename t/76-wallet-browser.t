#!/usr/bin/perl
# The wallet end to end in headless Chromium (t/node/page.js) on the
# regtest node with the watcher: open a wallet on the wallet page, top it up
# from the node's wallet, mine, see the balance; buy three files from their
# 402 pages ("Buy for N sats", with and without JavaScript), download them
# (bytes compared), see the balance go down by the three prices; restore the
# wallet with its recovery code in a second browser (another context: no
# cookie) and see the same balance and purchases; `bitcache wallet audit`
# finds the ledger in order. Screenshots go to t/artifacts/.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
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
$t->start_node;
$t->fund_wallet;
my %price = (one => 1000, two => 2000, three => 3000);
my %file = map { $_ => $t->make_file("$_/$_.bin", 40_000 + $price{$_}) } keys %price;
$t->start_nginx($t->wallet_http(<<'LOC', price => 1000));
        bitcache_wallets on;
        bitcache_confirmations 1;
        location /one/ { bitcache on; }
        location /two/ { bitcache on; bitcache_price 2000; }
        location /three/ { bitcache on; bitcache_price 3000; }
LOC
$t->start_watcher;

# runs page.js on $path with @opt; returns its JSON summary
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
sub cookie_of {
    my ($r, $name) = @_;
    my ($c) = grep { $_->{name} eq $name } @{ $r->{cookies} || [] };
    return $c;
}
sub clean {
    my ($r, $name) = @_;
    is_deeply($r->{external}, [], "$name: nothing loaded from another host");
    is_deeply([grep { !/favicon/ } @{ $r->{console} }], [], "$name: no console errors (CSP)");
    is_deeply($r->{page_errors}, [], "$name: no script errors");
}

# 1. open a wallet and ask for a top-up, in one browser
my $r = browse('/bitcache/wallet',
               '--screenshot', "$art/76-wallet-open.png",
               '--click', '#open-form button', '--summary',
               '--screenshot', "$art/76-wallet-code.png",
               '--fill', '#amount=50000', '--click', '#topup-form button',
               '--wait', '#address', '--screenshot', "$art/76-wallet-topup.png");
ok($r->{ok}, 'opened a wallet and asked for a top-up') or diag explain $r;
my $opened = $r->{steps}[1]{summary} || $r->{steps}[0]{summary} || {};
my ($code) = ($opened->{body_text} // '') =~ /\b(bcw1[02-9ac-hj-np-z]{38})\b/;
ok($code, 'the page shows the recovery code once');
my $wc = cookie_of($r, 'bitcache_wallet');
ok($wc && $wc->{httpOnly}, 'the wallet cookie, HttpOnly');
my $cookie = $wc ? "bitcache_wallet=$wc->{value}" : '';
my $addr = $r->{address};
like($addr // '', qr/^bcrt1/, "the top-up invoice's address ($addr)");
clean($r, 'wallet page');

# 2. pay it from the node's wallet, mine: the balance shows
my $txid = $t->send_sats($addr, 50_000);
like($txid, qr/^[0-9a-f]{64}$/, 'the node paid the top-up');
$t->mine(1);
ok(BcTest::wait_until(sub { ($t->wallet_balance($code) // 0) == 50_000 }, 30),
   'credited: 50000 sats') or diag $t->watcher_log . $t->error_log;
$r = browse('/bitcache/wallet', '--root-cookie', $cookie, '--screenshot', "$art/76-wallet-balance.png");
is($r->{fields}{'balance-sats'}{text}, '50000', 'the wallet page shows 50000 sats');

# 3. buy three files from their pages: one click each, the second without
# JavaScript; the click downloads the file
my $dl = $t->dir . '/downloads';
mkdir $dl;
my $balance = 50_000;
for my $name (qw(one two three)) {
    my @js = $name eq 'two' ? ('--no-js') : ();
    $r = browse("/$name/$name.bin", @js, '--root-cookie', $cookie, '--downloads', $dl,
                '--summary', '--screenshot', "$art/76-wallet-402-$name.png", '--click', '#buy',
                '--wait-ms', 1000);
    my $page = $r->{steps}[0]{summary} || {};
    my $how = @js ? "$name (no JS)" : $name;
    is($page->{fields}{'balance-sats'}{text}, $balance, "$how: the 402 page shows the balance");
    is($page->{fields}{buy}{text}, "Buy for $price{$name} sats", "$how: \"Buy for $price{$name} sats\"");
    like($page->{buy_form}{key} // '', qr/^[A-Za-z0-9_-]{22}$/, "$how: an idempotency key in the form");
    my ($got) = @{ $r->{downloads} || [] };
    ok($got && -f $got->{path}, "$how: the click downloaded a file") or diag explain $r;
    my $bytes = $got && -f $got->{path} ? do { local (@ARGV, $/) = $got->{path}; <> } : '';
    ok($bytes eq $file{$name}, "$how: the exact bytes of the file");
    $balance -= $price{$name};
    is($t->wallet_balance($code), $balance, "$how: the balance went down by $price{$name}");
}
is($balance, 44_000, 'three purchases: 6000 sats');

# a second view of a bought file's page: "Download again", free
$r = browse('/one/one.bin', '--root-cookie', $cookie, '--downloads', $dl, '--summary', '--click', '#buy',
            '--wait-ms', 1000);
is($r->{steps}[0]{summary}{fields}{buy}{text}, 'Download again', 'owned: "Download again"');
my ($again) = @{ $r->{downloads} || [] };
ok($again && do { local (@ARGV, $/) = $again->{path}; <> } eq $file{one}, '... it downloads the file');
is($t->wallet_balance($code), $balance, '... and costs nothing');

# 4. another browser: restore with the code, the same balance and purchases
$r = browse('/bitcache/wallet', '--fill', "#restore-code=$code", '--click', '#restore-form button',
            '--wait', '#balance-sats', '--screenshot', "$art/76-wallet-restored.png");
ok($r->{ok}, 'restored in a second browser');
is($r->{fields}{'balance-sats'}{text}, '44000', 'the restored wallet shows 44000 sats');
like($r->{body_text}, qr{/$_/$_\.bin}, "... and the purchase of /$_/$_.bin") for qw(one two three);
ok(cookie_of($r, 'bitcache_wallet'), '... and now holds the wallet cookie');
clean($r, 'restored wallet page');

# 5. the audit: every entry verifies, the balance adds up
my $wid = $t->wallet_req('GET', '/wallet', $code)->{json}{wallet};
my $audit = $t->wallet_audit($wid);
ok($audit->{ok}, 'bitcache wallet audit: ok') or diag explain $audit;
is($audit->{balance_sats}, 44_000, '... balance 44000');

unlike($t->error_log . $t->access_log, qr/\Q$code\E/, 'no recovery code in the logs');
$t->stop_watcher;
$t->check_log_clean;
done_testing;
