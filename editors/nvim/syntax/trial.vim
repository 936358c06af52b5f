" Highlighting for trialsim specs (the TextMate grammar in editors/vscode is the reference).
if exists("b:current_syntax")
  finish
endif
syntax match trialComment "#.*$"
syntax match trialComment "//.*$"
syntax region trialString start=+"+ end=+"+ oneline
syntax match trialDate "\<\d\{4}-\d\{2}-\d\{2}\>"
syntax match trialNumber "-\=\<\d\+\(\.\d\+\)\=%\="
syntax keyword trialBlock trial population eligibility assignment employment arm path outcome analysis data costs balance
syntax keyword trialKeyword follow_up reference_date pool categorical rest and in amended from screening removes observed
syntax keyword trialKeyword parity of even odd randomise randomize blocks within intake clock guidance waiting
syntax keyword trialKeyword randomisation randomization order random simultaneous capacity staff caseload intakes per
syntax keyword trialKeyword sample job_loss wage after work employed at by dropout before follows exemption up to exit
syntax keyword trialKeyword without crossover worked durable for benefit ended binary continuous compare vs versus test
syntax keyword trialKeyword one_sided two_sided greater less alpha correction expect id covariate monthly_hours
syntax keyword trialKeyword delimiter decimal comma point allow exclusions icc cluster inflow exits exited fixed
syntax keyword trialKeyword participant saving avoids top_up excluded starts paired with lost_to_follow_up if missing
syntax keyword trialKeyword depends on adjust estimate looks information efficacy futility beta_spending
syntax keyword trialKeyword binding non_binding conditional_power below flag smd above bins
" Keywords only in context, names elsewhere: `analysis NAME (primary)`, `power 80%` of a futility rule.
syntax match trialKeyword "\s(\s*\zsprimary\ze\s*)"
syntax match trialKeyword "\<power\ze\s\+\d"
syntax keyword trialUnit years year months month weeks week euro hours hour
syntax match trialOperator "->\|→\|>=\|<=\|==\|[<>~=]"
highlight default link trialComment Comment
highlight default link trialString String
highlight default link trialDate Constant
highlight default link trialNumber Number
highlight default link trialBlock Structure
highlight default link trialKeyword Keyword
highlight default link trialUnit Type
highlight default link trialOperator Operator
let b:current_syntax = "trial"
