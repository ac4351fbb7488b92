#!/usr/bin/perl
# Extracts the official test vectors from the BIP texts into the data files
# that t/unit/*.c read. Run from anywhere:
#   perl t/vectors/extract.pl [BIPS_DIR]   (default: ../shared/bips beside the repo)
# Strings with bytes outside printable ASCII are written with \xNN escapes.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Copy qw(copy);

my $out = dirname(__FILE__);
my $bips = shift // "$out/../../../shared/bips";

sub slurp { my ($f) = @_; open my $fh, '<', "$bips/$f" or die "$bips/$f: $!"; local $/; <$fh> }
sub put {
    my ($name, @lines) = @_;
    open my $fh, '>', "$out/$name" or die "$out/$name: $!";
    print $fh "# extracted from $bips by t/vectors/extract.pl; do not edit\n", @lines;
    close $fh;
    printf "%-24s %d vectors\n", $name, scalar @lines;
}
sub esc { my ($s) = @_; $s =~ s/([^\x21-\x7e])/sprintf('\\x%02X', ord $1)/ge; $s }

# "0x20 + <tt>1nwldj5</tt>" and "<tt>de1lg7wt</tt> + 0xFF" put raw bytes around the text
sub tt_string {
    my ($item) = @_;
    my ($pre, $s, $post) = $item =~ /^\*\s*(?:0x([0-9A-Fa-f]{2})\s*\+\s*)?<tt>(.*?)<\/tt>(?:\s*\+\s*0x([0-9A-Fa-f]{2}))?/ or return;
    $s = chr(hex $pre) . $s if defined $pre;
    $s .= chr(hex $post) if defined $post;
    return $s;
}

# --- BIP173 / BIP350: bech32 strings and segwit addresses
my (@bech32, @segwit);
for my $bip (['bip-0173.mediawiki', 'bech32'], ['bip-0350.mediawiki', 'bech32m']) {
    my ($file, $variant) = @$bip;
    my $section = '';
    for my $line (split /\n/, slurp($file)) {
        if ($line =~ /^The following strings? (?:are|is) valid Bech32/) { $section = 'valid' }
        elsif ($line =~ /^The following strings? (?:are|is) not valid Bech32/) { $section = 'invalid' }
        elsif ($line =~ /valid segwit addresses and the scriptPubKey/) { $section = 'valid-addr' }
        elsif ($line =~ /invalid segwit addresses/) { $section = 'invalid-addr' }
        elsif ($line =~ /^=/) { $section = '' }
        next unless $section && $line =~ /^\*/;
        my $s = tt_string($line) // next;
        my ($reason) = $line =~ /<\/tt>(?:\s*\+\s*0x[0-9A-Fa-f]{2})?\s*:?\s*(.*)$/;
        $reason //= '';
        $reason =~ s/<\/?tt>//g;
        if ($section eq 'valid' || $section eq 'invalid') {
            $reason = '' if $section eq 'valid';
            $reason =~ s/\s*WARNING.*//;
            push @bech32, join("\t", $variant, $section, esc($s), $reason) . "\n";
        } elsif ($section eq 'valid-addr') {
            my ($spk) = $reason =~ /([0-9a-f]+)/;
            # BIP350 moved witness versions 1-16 to Bech32m: BIP173's own v1+
            # examples are no longer valid addresses, only valid bech32 strings
            my $kind = ($variant eq 'bech32' && $spk !~ /^00/) ? 'superseded' : 'valid';
            push @segwit, join("\t", $kind, $s, $spk) . "\n";
        } else {
            push @segwit, join("\t", 'invalid', $s, $reason) . "\n";
        }
    }
}
put('bech32.tsv', @bech32);
put('segwit.tsv', @segwit);

# --- BIP32: extended key chains (vectors 1-4) and vector 5's invalid keys
my (@chains, @invalid);
{
    my ($vector, $chain) = (0, '');
    my %pair;
    for my $line (split /\n/, slurp('bip-0032.mediawiki')) {
        if ($line =~ /^===Test vector (\d+)===/) { $vector = $1; next }
        next unless $vector;
        if ($line =~ /^\* Chain (\S+)/) {
            ($chain = $1) =~ s/<sub>H<\/sub>/h/g;
        } elsif ($line =~ /^\*\* ext pub: (\S+)/) {
            $pair{pub} = $1;
        } elsif ($line =~ /^\*\* ext prv: (\S+)/) {
            push @chains, join("\t", "bip32-$vector", $chain, $pair{pub}, $1) . "\n";
        } elsif ($vector == 5 && $line =~ /^\* (\S+) \((.*)\)$/) {
            push @invalid, "$1\t$2\n";
        }
    }
}
# BIP86 lists the extended keys of its account and of each address
{
    my $path;
    for my $line (split /\n/, slurp('bip-0086.mediawiki')) {
        if ($line =~ m{// Account 0, root = (\S+)}) { $path = $1 }
        elsif ($line =~ m{// Account 0, .* = (\S+)}) { $path = $1 }
        elsif ($line =~ /^xpub\s*=\s*(\S+)/ && $path) {
            my $xpub = $1;
            (my $p = $path) =~ s/'/h/g;
            push @chains, join("\t", 'bip86', $p, $xpub, '-') . "\n";
        }
    }
}
put('bip32.tsv', @chains);
put('bip32-invalid.tsv', @invalid);

# --- BIP49 / BIP84 / BIP86 / SLIP-132: account key -> addresses
# columns: source, wallet (key or descriptor), network, change, index, address, scriptPubKey or -
my @addr;
{
    my $t = slurp('bip-0084.mediawiki');
    my ($zpub) = $t =~ m{// Account 0, root = m/84'/0'/0'\s*\n\s*xpriv\s*=\s*\S+\s*\n\s*xpub\s*=\s*(\S+)};
    while ($t =~ m{// Account 0, \S+ \S+ address = m/84'/0'/0'/(\d)/(\d+)\s*\n(?:.*\n){2}\s*address\s*=\s*(\S+)}g) {
        push @addr, join("\t", 'bip84', $zpub, 'mainnet', $1, $2, $3, '-') . "\n";
    }
}
{
    my $t = slurp('bip-0049.mediawiki');
    my ($upub) = $t =~ /account0Xpub = (\S+)/;
    my ($address) = $t =~ /\n\s*address = .*? = (\S+) \(testnet\)/;
    push @addr, join("\t", 'bip49', $upub, 'testnet', 0, 0, $address, '-') . "\n";
}
{
    my $t = slurp('bip-0086.mediawiki');
    my ($xpub) = $t =~ m{// Account 0, root = m/86'/0'/0'\s*\n\s*xprv\s*=\s*\S+\s*\n\s*xpub\s*=\s*(\S+)};
    while ($t =~ m{// Account 0, \S+ \S+ address = m/86'/0'/0'/(\d)/(\d+)\s*\n(?:.*\n){4}scriptPubKey\s*=\s*(\S+)\s*\naddress\s*=\s*(\S+)}g) {
        push @addr, join("\t", 'bip86', "tr($xpub/$1/*)", 'mainnet', 0, $2, $4, $3) . "\n";
    }
}
for my $line (split /\n/, slurp('slip-0132-bitcoin.txt')) {
    next unless $line =~ m{^# (m/\S+) (\S+pub\S+) -> (\d)/(\d+) (\S+)};
    push @addr, join("\t", 'slip132', $2, 'mainnet', $3, $4, $5, '-') . "\n";
}
put('addresses.tsv', @addr);

# --- BIP380: checksums and key expressions
my (@checksum, @keyexpr);
{
    my $section = '';
    for my $line (split /\n/, slurp('bip-0380.mediawiki')) {
        if ($line =~ /tests cover the checksum/) { $section = 'checksum' }
        elsif ($line =~ /^Valid expressions/) { $section = 'valid' }
        elsif ($line =~ /^Invalid expression/) { $section = 'invalid' }
        elsif ($line =~ /^==/) { $section = '' }
        next unless $section && $line =~ /^\* (.*?):? *<tt>([^<]*)<\/tt>\s*$/;
        my ($what, $s) = ($1, $2);
        $what =~ s/<\/?tt>//g;
        if ($section eq 'checksum') {
            my $ok = $what =~ /^(Valid checksum|No checksum)$/ ? 'valid' : 'invalid';
            push @checksum, join("\t", $ok, esc($s), $what) . "\n";
        } else {
            push @keyexpr, join("\t", $section, $s, $what) . "\n";
        }
    }
}
put('bip380-checksum.tsv', @checksum);
put('bip380-keys.tsv', @keyexpr);

copy("$bips/bip-0340-test-vectors.csv", "$out/bip340.csv") or die "bip340: $!";
print "bip340.csv               copied\n";
