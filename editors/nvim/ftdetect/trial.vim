" trialsim specs
autocmd BufRead,BufNewFile *.trial setfiletype trial
